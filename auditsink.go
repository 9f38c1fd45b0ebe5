package caxton

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AuditSink keeps the audit trail beyond the runtime's memory: every
// record, in chain order, so that the trail survives a restart and
// VerifyAuditTrail can check all of it. Package auditlog is one, in a
// directory; a sink over a database or a log shipper plugs in the same way.
//
// A sink serves one runtime at a time.
type AuditSink interface {
	// Last returns the newest record stored (ok is false for an empty
	// sink). New reads it once, so that a restarted runtime continues the
	// chain — its first record follows the stored trail's last — instead of
	// starting a second chain at 1.
	Last() (r AuditRecord, ok bool, err error)
	// Append stores r. The runtime calls it for every record, one at a
	// time, in chain order, on the goroutine of the event, so it should be
	// quick (write now, sync in the background). An error is logged on the
	// runtime's logger (the record still reaches Runtime.Audit and the
	// hook); the event itself goes ahead.
	Append(r AuditRecord) error
}

// AuditRetainer is an AuditSink that removes old records (by age or count,
// as the sink is configured) without breaking the trail's verification.
// After each record the runtime asks Expired; when records are due to go,
// it first appends an AuditRetention checkpoint that names the first
// record kept and the hash that record follows, and then calls Remove.
// Because the checkpoint is itself chained, VerifyAuditTrail can tell
// records removed by retention from records deleted by someone else.
type AuditRetainer interface {
	AuditSink
	// Expired reports whether retention would now remove the stored
	// records before keep, the oldest record that stays (now is the
	// runtime's clock).
	Expired(now time.Time) (keep AuditRecord, ok bool, err error)
	// Remove deletes the stored records with a sequence number below seq.
	Remove(seq uint64) error
}

// WithAuditSink stores every audit record in s as well, and continues the
// chain s holds: a runtime restarted on the same sink carries on from the
// last stored record, so the whole stored trail verifies across restarts
// (VerifyAuditTrail). If s is an AuditRetainer its retention is applied as
// records arrive, behind a checkpoint record. New fails if s cannot be
// read. The runtime does not close s; close it after Runtime.Close.
func WithAuditSink(s AuditSink) Option {
	return func(cfg *config) error {
		if s == nil {
			return specErr("WithAuditSink", "nil sink")
		}
		cfg.auditSink = s
		return nil
	}
}

// attachSink resumes the chain from s's last record.
func (l *auditLog) attachSink(s AuditSink, onErr func(error)) error {
	last, ok, err := s.Last()
	if err != nil {
		return fmt.Errorf("caxton: audit sink: reading its last record: %w", err)
	}
	if ok {
		if last.digest() != last.Hash {
			return fmt.Errorf("caxton: audit sink: its last record: %w", &AuditChainError{Seq: last.Seq, Reason: "its hash does not match its contents"})
		}
		l.seq, l.last = last.Seq, last.Hash
	}
	l.sink, l.onErr = s, onErr
	l.retainer, _ = s.(AuditRetainer)
	return nil
}

// retain applies the retainer's retention: a checkpoint record first, so
// that a crash between the two leaves extra records rather than a gap
// nothing accounts for. The caller holds hmu.
func (l *auditLog) retain(now time.Time) {
	keep, ok, err := l.retainer.Expired(now)
	if err != nil {
		l.onErr(fmt.Errorf("caxton: audit sink: retention: %w", err))
		return
	}
	if !ok || keep.Seq <= 1 {
		return
	}
	l.add(AuditRecord{Kind: AuditRetention, Subject: "runtime", Action: "retention", Target: strconv.FormatUint(keep.Seq, 10),
		Allowed: true, Reason: fmt.Sprintf("%s%s; records before %d removed by the sink's retention", checkpointFollows, keep.Prev, keep.Seq)}, now)
	if err := l.retainer.Remove(keep.Seq); err != nil {
		l.onErr(fmt.Errorf("caxton: audit sink: removing records before %d: %w", keep.Seq, err))
	}
}

// checkpointFollows begins an AuditRetention record's Reason; the hash the
// first kept record follows comes next.
const checkpointFollows = "follows "

// checkpoint reads an AuditRetention record: the first record kept and
// the hash it follows.
func checkpoint(r *AuditRecord) (keep uint64, prev string, err error) {
	keep, err = strconv.ParseUint(r.Target, 10, 64)
	if err != nil {
		return 0, "", errors.New("its target is not a record number")
	}
	rest, ok := strings.CutPrefix(r.Reason, checkpointFollows)
	if !ok {
		return 0, "", errors.New("its reason does not name the hash the first kept record follows")
	}
	prev, _, _ = strings.Cut(rest, ";")
	return keep, prev, nil
}

// VerifyAuditTrail checks a whole stored trail, as an AuditSink keeps it
// (oldest first): VerifyAudit's checks, and that nothing is missing at its
// start — it begins at record 1, or where the newest retention checkpoint
// (AuditRetention) in it says records were removed, following the hash the
// checkpoint names. Records removed or cut at the start by anyone but the
// retention fail with an *AuditChainError (ErrAuditTampered).
// AuditTrailVerifier does the same record by record.
//
// Like any hash chain without a secret, it cannot tell a trail cut at its
// end, or rewritten wholesale, from an honest one: compare the last
// record's Hash with one kept elsewhere (WithAuditHook) for that.
func VerifyAuditTrail(records []AuditRecord) error {
	var v AuditTrailVerifier
	for i := range records {
		if err := v.Add(&records[i]); err != nil {
			return err
		}
	}
	return v.Done()
}

// AuditTrailVerifier is VerifyAuditTrail one record at a time, for a
// trail too long to hold in memory: Add each record, oldest first, then
// Done. The zero value is ready to use.
type AuditTrailVerifier struct {
	n               int
	first, prev     AuditRecord
	keep            uint64 // the newest checkpoint's first kept record (0: none seen)
	keepPrev        string // and the hash it follows
	checkpointAtSeq uint64
}

// Add checks r against the record before it.
func (v *AuditTrailVerifier) Add(r *AuditRecord) error {
	if r.digest() != r.Hash {
		return &AuditChainError{Seq: r.Seq, Reason: "its hash does not match its contents"}
	}
	if v.n > 0 {
		p := &v.prev
		switch {
		case r.Prev != p.Hash:
			return &AuditChainError{Seq: r.Seq, Reason: fmt.Sprintf("it does not follow record %d", p.Seq)}
		case r.Seq != p.Seq+1:
			return &AuditChainError{Seq: r.Seq, Reason: fmt.Sprintf("records %d to %d are missing", p.Seq+1, r.Seq-1)}
		}
	} else {
		v.first = *r
	}
	if r.Kind == AuditRetention {
		keep, prev, err := checkpoint(r)
		if err != nil {
			return &AuditChainError{Seq: r.Seq, Reason: "retention checkpoint: " + err.Error()}
		}
		v.keep, v.keepPrev, v.checkpointAtSeq = keep, prev, r.Seq
	}
	v.prev = *r
	v.n++
	return nil
}

// Done checks the trail's start against its newest retention checkpoint.
func (v *AuditTrailVerifier) Done() error {
	first := &v.first
	switch {
	case v.n == 0 || first.Seq == 1:
		return nil
	case v.keep == 0:
		return &AuditChainError{Seq: first.Seq, Reason: fmt.Sprintf("records 1 to %d are missing and no retention checkpoint accounts for them", first.Seq-1)}
	case first.Seq > v.keep:
		return &AuditChainError{Seq: first.Seq, Reason: fmt.Sprintf("records %d to %d are missing (the retention checkpoint at record %d kept from %d)",
			v.keep, first.Seq-1, v.checkpointAtSeq, v.keep)}
	case first.Seq == v.keep && first.Prev != v.keepPrev:
		return &AuditChainError{Seq: first.Seq, Reason: fmt.Sprintf("it does not follow the record that the retention checkpoint at record %d removed before it", v.checkpointAtSeq)}
	}
	return nil // first.Seq < keep: the sink had not removed them yet
}
