package caxton

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// AuditKind classifies a security event.
type AuditKind uint8

// Audit kinds.
const (
	AuditLifecycle   AuditKind = iota + 1 // spawn, stop, start, scale, upgrade, rollback, remove (allowed or denied)
	AuditDenied                           // a send or subscription the authorizer refused
	AuditForged                           // a message naming a sender its origin may not speak as
	AuditQuota                            // a quota hit: send rate, bytes, outbox, agents or instances
	AuditTool                             // a tool call the agent's grant does not allow
	AuditDeadLetters                      // dead letters replayed or purged
	AuditRetention                        // an AuditSink's retention is about to remove old records (a checkpoint; see AuditRetainer)
	AuditCall                             // a call an outside party made through a face the host serves (RecordCall)
)

var auditNames = [...]string{AuditLifecycle: "lifecycle", AuditDenied: "denied", AuditForged: "forged sender",
	AuditQuota: "quota", AuditTool: "tool denied", AuditDeadLetters: "dead letters", AuditRetention: "retention", AuditCall: "call"}

func (k AuditKind) String() string {
	if int(k) < len(auditNames) && auditNames[k] != "" {
		return auditNames[k]
	}
	return fmt.Sprintf("AuditKind(%d)", uint8(k))
}

// MarshalText writes the kind's name ("lifecycle", "denied", ...), so a
// stored trail reads as words.
func (k AuditKind) MarshalText() ([]byte, error) {
	if int(k) < len(auditNames) && auditNames[k] != "" {
		return []byte(auditNames[k]), nil
	}
	return nil, fmt.Errorf("caxton: unknown audit kind %d", uint8(k))
}

// UnmarshalText reads a name MarshalText wrote.
func (k *AuditKind) UnmarshalText(b []byte) error {
	for i, n := range auditNames {
		if n != "" && n == string(b) {
			*k = AuditKind(i)
			return nil
		}
	}
	return fmt.Errorf("caxton: unknown audit kind %q", b)
}

// AuditRecord is one security event. Records are chained: Hash covers the
// record's fields and Prev, the previous record's Hash, so VerifyAudit
// detects a record deleted, inserted or edited.
type AuditRecord struct {
	Seq     uint64    `json:"seq"` // increasing, from 1 (with an AuditSink, continuing the sink's trail across restarts)
	At      time.Time `json:"at"`  // by the runtime's clock
	Kind    AuditKind `json:"kind"`
	Subject string    `json:"subject"`            // who: "agent:billing", "identity:alice", "inbox:gateway", "host"
	Action  string    `json:"action"`             // what: "send request", "subscribe", "scale", "replay", ...
	Target  string    `json:"target,omitempty"`   // to or on what: an agent, a topic, dead-letter ids
	Allowed bool      `json:"allowed"`            // whether it went ahead
	Reason  string    `json:"reason,omitempty"`   // why it was refused, or a detail
	TraceID string    `json:"trace_id,omitempty"` // the trace of the context it happened in, if any
	Prev    string    `json:"prev,omitempty"`     // hex SHA-256 of the previous record ("" for the first)
	Hash    string    `json:"hash"`               // hex SHA-256 of this record
}

// digest is the record's hash over its fields and Prev.
func (r *AuditRecord) digest() string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], r.Seq)
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(r.At.UnixNano()))
	h.Write(n[:])
	h.Write([]byte{byte(r.Kind), boolByte(r.Allowed)})
	for _, s := range []string{r.Subject, r.Action, r.Target, r.Reason, r.TraceID, r.Prev} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// ErrAuditTampered: VerifyAudit found a record that does not follow from
// the one before it; see *AuditChainError.
var ErrAuditTampered = errors.New("caxton: audit trail tampered with")

// AuditChainError names the first record that breaks the chain.
type AuditChainError struct {
	Seq    uint64
	Reason string
}

func (e *AuditChainError) Error() string {
	return fmt.Sprintf("caxton: audit record %d: %s", e.Seq, e.Reason)
}

// Unwrap returns ErrAuditTampered.
func (e *AuditChainError) Unwrap() error { return ErrAuditTampered }

// VerifyAudit checks that records (in order, as Runtime.Audit or a hook
// received them) form an unbroken chain: each hash matches its record, each
// record names its predecessor's hash, and sequence numbers have no gap. The
// first record's own predecessor is not known and is not checked.
func VerifyAudit(records []AuditRecord) error {
	for i := range records {
		r := &records[i]
		if r.digest() != r.Hash {
			return &AuditChainError{Seq: r.Seq, Reason: "its hash does not match its contents"}
		}
		if i == 0 {
			continue
		}
		p := &records[i-1]
		switch {
		case r.Prev != p.Hash:
			return &AuditChainError{Seq: r.Seq, Reason: fmt.Sprintf("it does not follow record %d", p.Seq)}
		case r.Seq != p.Seq+1:
			return &AuditChainError{Seq: r.Seq, Reason: fmt.Sprintf("records %d to %d are missing", p.Seq+1, r.Seq-1)}
		}
	}
	return nil
}

// DefaultAuditBuffer is how many recent records Runtime.Audit keeps unless
// WithAuditBuffer says otherwise.
const DefaultAuditBuffer = 4096

// auditLog chains records, keeps the recent ones and hands each to the
// hook and the sink. Recording takes one lock; the hook and the sink run
// outside it, in order.
type auditLog struct {
	mu   sync.Mutex
	hook func(AuditRecord)
	ring []AuditRecord
	next int // where the next record goes in ring
	full bool
	seq  uint64
	last string // the last record's hash

	hmu      sync.Mutex    // held while a record reaches the hook and sink: they see chain order
	sink     AuditSink     // nil without WithAuditSink
	retainer AuditRetainer // sink, when it removes old records
	onErr    func(error)   // reports a sink's failure (the runtime's logger)
}

func (l *auditLog) init(size int, hook func(AuditRecord)) {
	l.ring = make([]AuditRecord, max(size, 0))
	l.hook = hook
}

// record stamps r (sequence, time, chain) and keeps it; with a retaining
// sink, it then applies the sink's retention behind a checkpoint record.
func (l *auditLog) record(r AuditRecord, now time.Time) {
	l.hmu.Lock() // hooks and the sink see records in chain order
	defer l.hmu.Unlock()
	l.add(r, now)
	if l.retainer != nil {
		l.retain(now)
	}
}

// add chains r and hands it on; the caller holds hmu.
func (l *auditLog) add(r AuditRecord, now time.Time) {
	l.mu.Lock()
	l.seq++
	r.Seq, r.At, r.Prev = l.seq, now, l.last
	r.Hash = r.digest()
	l.last = r.Hash
	if len(l.ring) > 0 {
		l.ring[l.next] = r
		l.next = (l.next + 1) % len(l.ring)
		l.full = l.full || l.next == 0
	}
	l.mu.Unlock()
	if l.hook != nil {
		l.hook(r)
	}
	if l.sink != nil {
		if err := l.sink.Append(r); err != nil {
			l.onErr(fmt.Errorf("caxton: audit sink: appending record %d: %w", r.Seq, err))
		}
	}
}

func (l *auditLog) snapshot() []AuditRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]AuditRecord(nil), l.ring[:l.next]...)
	}
	return append(append([]AuditRecord(nil), l.ring[l.next:]...), l.ring[:l.next]...)
}

// WithAuditHook calls hook with every security record, in order, on the
// goroutine of the event (keep it quick; ship records to a durable log
// there).
func WithAuditHook(hook func(AuditRecord)) Option {
	return func(cfg *config) error {
		cfg.onAudit = hook
		return nil
	}
}

// WithAuditBuffer sets how many recent records Runtime.Audit keeps
// (default DefaultAuditBuffer; 0 keeps none, the hook still sees all).
func WithAuditBuffer(n int) Option {
	return func(cfg *config) error {
		if n < 0 {
			return specErr("WithAuditBuffer", "%d is negative", n)
		}
		cfg.auditBuffer = n
		return nil
	}
}

// Audit returns the recent security records, oldest first; VerifyAudit
// checks them.
func (rt *Runtime) Audit() []AuditRecord { return rt.audit.snapshot() }

// RecordCall adds an AuditCall record for an operation an outside party
// asked for through a face the host serves over the network or a pipe
// (package mcp/mcpserver records every tool call with it, package server
// every management call it audits): the caller is the Identity in ctx
// ("identity:alice"), or "identity" alone for a caller not identified;
// action names the operation ("mcp send_message"), target what it was on,
// and outcome is nil when the call succeeded or what went wrong. The
// operations the call then makes on the runtime are recorded as usual
// (lifecycle, dead letters, denied sends), so the trail shows both the call
// and its effects.
func (rt *Runtime) RecordCall(ctx context.Context, action, target string, outcome error) {
	sub := Subject{Kind: SubjectIdentity}
	if id, ok := IdentityFrom(ctx); ok {
		sub.Name, sub.Roles = id.Name, id.Roles
	}
	reason := ""
	if outcome != nil {
		reason = outcome.Error()
	}
	rt.auditf(AuditCall, sub.String(), action, target, outcome == nil, reason, traceID(ctx))
}

// auditf records a security event.
func (rt *Runtime) auditf(kind AuditKind, subject, action, target string, allowed bool, reason string, traceID string) {
	rt.audit.record(AuditRecord{Kind: kind, Subject: subject, Action: action, Target: target, Allowed: allowed,
		Reason: truncateNotice(reason), TraceID: traceID}, rt.clock.Now())
}
