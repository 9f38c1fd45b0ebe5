package mcp

import (
	"sync"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/tool"
)

// AuditRecord is one tool call as the registry saw it. Every call yields
// exactly one record — denied, rate-limited and malformed calls included —
// because the calls an agent was refused are the ones an auditor most
// wants to see.
type AuditRecord struct {
	Time     time.Time // when the call arrived (registry clock)
	Agent    acl.AgentID
	Tool     string
	Duration time.Duration // registry clock, arrival to answer
	Status   tool.Status
	// Error is the reason given to the agent when Status is not tool.StatusOK.
	Error string
	// ArgBytes is the size of the arguments; ResultBytes the size of the
	// result (for tool.StatusTooLarge: of the result that was refused).
	ArgBytes    int
	ResultBytes int
}

// auditRing keeps the most recent records in a fixed buffer.
type auditRing struct {
	mu   sync.Mutex
	buf  []AuditRecord
	next int  // where the next record goes
	full bool // buf has wrapped at least once
}

func (a *auditRing) init(n int) { a.buf = make([]AuditRecord, n) }

func (a *auditRing) add(rec AuditRecord) {
	if len(a.buf) == 0 {
		return
	}
	a.mu.Lock()
	a.buf[a.next] = rec
	a.next++
	if a.next == len(a.buf) {
		a.next, a.full = 0, true
	}
	a.mu.Unlock()
}

func (a *auditRing) snapshot() []AuditRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.full {
		return append([]AuditRecord(nil), a.buf[:a.next]...)
	}
	out := make([]AuditRecord, 0, len(a.buf))
	out = append(out, a.buf[a.next:]...)
	return append(out, a.buf[:a.next]...)
}

// Audit returns the most recent tool calls (up to the audit buffer's
// size), oldest first.
func (r *Registry) Audit() []AuditRecord { return r.audit.snapshot() }
