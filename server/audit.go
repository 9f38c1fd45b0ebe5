package server

import (
	"sync"
)

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
