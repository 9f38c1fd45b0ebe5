package server

import (
	"sync"
	"time"
)

// Outcome is how an audited call ended.
type Outcome string

// The outcomes of audited calls.
const (
	OutcomeOK     Outcome = "ok"     // the action was carried out
	OutcomeFailed Outcome = "failed" // the action was allowed and failed (Status and Detail say why)
	OutcomeDenied Outcome = "denied" // the caller was refused: unidentified, not allowed or over its rate
)

// AuditRecord is one audited call: every management action (anything
// that is not a read) and every refused call, who made it, what, when and
// how it ended.
type AuditRecord struct {
	Time    time.Time `json:"time"`
	Subject string    `json:"subject"` // who ("" when the caller could not be identified)
	Role    string    `json:"role,omitempty"`
	Remote  string    `json:"remote"` // the client's address
	Method  string    `json:"method"`
	Path    string    `json:"path"`
	Action  string    `json:"action"` // the route's operation, e.g. "scaleAgent"
	Agent   string    `json:"agent,omitempty"`
	Outcome Outcome   `json:"outcome"`
	Status  int       `json:"status"`
	Detail  string    `json:"detail,omitempty"`
}

// auditLog keeps the recent records and hands each to the hook.
type auditLog struct {
	mu   sync.Mutex
	ring []AuditRecord
	next int
	full bool
	hook func(AuditRecord)
}

func newAuditLog(n int, hook func(AuditRecord)) *auditLog {
	return &auditLog{ring: make([]AuditRecord, n), hook: hook}
}

func (l *auditLog) add(rec AuditRecord) {
	l.mu.Lock()
	if len(l.ring) > 0 {
		l.ring[l.next] = rec
		l.next = (l.next + 1) % len(l.ring)
		l.full = l.full || l.next == 0
	}
	l.mu.Unlock()
	if l.hook != nil {
		l.hook(rec)
	}
}

// records returns the kept records, oldest first.
func (l *auditLog) records() []AuditRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]AuditRecord(nil), l.ring[:l.next]...)
	}
	out := make([]AuditRecord, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}
