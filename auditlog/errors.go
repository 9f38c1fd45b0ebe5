package auditlog

import (
	"errors"
	"fmt"
)

// ErrCorrupt: a stored record cannot be read back; see *CorruptError.
var ErrCorrupt = errors.New("auditlog: damaged audit trail")

// CorruptError names the damaged line.
type CorruptError struct {
	File   string
	Line   int
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("auditlog: %s line %d: %s", e.File, e.Line, e.Reason)
}

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// ErrLocked: another Log (in this process or another) has the directory
// open.
var ErrLocked = errors.New("auditlog: directory in use")

// ErrClosed: the Log was closed.
var ErrClosed = errors.New("auditlog: closed")

// OrderError refuses a record that does not follow the stored trail's
// last one: two runtimes writing to one Log, or a runtime that did not
// resume the chain from it (caxton.WithAuditSink does).
type OrderError struct {
	Seq, After uint64
}

func (e *OrderError) Error() string {
	return fmt.Sprintf("auditlog: record %d does not follow the stored trail's last record %d", e.Seq, e.After)
}
