package durable

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/caxton-go/caxton/store"
)

// Sentinel errors, in one place (like nats.go). Typed errors below wrap
// them, so errors.Is works on every error this package returns.
var (
	// ErrClosed is store.ErrClosed: the store or queue was used after Close.
	ErrClosed = store.ErrClosed
	// ErrCorrupt is wrapped by every *CorruptError: the store on disk is
	// damaged. Open refuses such a store unless WithRepair is given.
	ErrCorrupt = errors.New("durable: store is corrupt")
	// ErrQueueFull is wrapped by *QueueFullError: a Push would take a
	// queue past its limit (WithQueueLimit).
	ErrQueueFull = errors.New("durable: queue full")
	// ErrQueueOpen is returned by OpenQueue and DeleteQueue for a queue
	// that is open already: two handles on one queue would each believe
	// they own its envelopes.
	ErrQueueOpen = errors.New("durable: queue already open")
	// ErrNotInFlight is returned by Release, Retry and Ack for an envelope
	// this queue did not hand out with Pop (or that was already settled):
	// settling it twice would corrupt the queue's accounting.
	ErrNotInFlight = errors.New("durable: envelope not in flight on this queue")
	// ErrFailed is wrapped by every error after a write to disk failed. The
	// store refuses further writes: after a failed fsync the kernel may have
	// dropped the data, so carrying on could acknowledge what is not on disk.
	ErrFailed = errors.New("durable: store failed")
	// ErrLocked is wrapped by *LockedError: the directory is open in
	// another Store already, in this process or another.
	ErrLocked = errors.New("durable: directory in use by another store")
	// ErrNoHistory is returned by History and PruneHistory on a store
	// opened without WithHistory: there is nothing to read.
	ErrNoHistory = errors.New("durable: history is off (open the store WithHistory)")
)

// errNilContext is returned by a call given a nil context.Context, rather
// than a panic at the first use of it.
var errNilContext = errors.New("durable: nil context.Context (use context.Background())")

// CorruptError reports damage found on disk: a file the storage engine
// could not read, or a record whose checksum or encoding is wrong. File is
// the damaged file's path when it is known, otherwise the store directory.
type CorruptError struct {
	File   string // the damaged file (or the store directory)
	Key    string // the damaged record's key, in readable form, if known
	Detail string // what is wrong
	Err    error  // the underlying error, if any
}

// Error names the file, the record and what is wrong, so an operator
// knows where to look without a debugger.
func (e *CorruptError) Error() string {
	s := "durable: corrupt store file " + e.File
	if e.Key != "" {
		s += " (record " + e.Key + ")"
	}
	s += ": " + e.Detail
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the engine's error, if any.
func (e *CorruptError) Unwrap() error { return e.Err }

// QueueFullError reports a Push refused because the queue holds Limit
// envelopes (queued plus in flight) already.
type QueueFullError struct {
	Queue string
	Limit int
}

// Error names the queue and its limit.
func (e *QueueFullError) Error() string {
	return fmt.Sprintf("durable: queue %q full: it holds %d envelopes, its limit", e.Queue, e.Limit)
}

// Is makes errors.Is(err, ErrQueueFull) true.
func (e *QueueFullError) Is(target error) bool {
	return target == ErrQueueFull || target == store.ErrFull
}

// LockedError reports an Open refused because another Store has the
// directory open.
type LockedError struct {
	Dir string
}

// Error names the directory.
func (e *LockedError) Error() string {
	return fmt.Sprintf("durable: %s is open in another store (this process or another); close it first", e.Dir)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// lockFile is the file in a store's directory that Open locks.
const lockFile = "caxton.lock"

// engineFile finds the file an engine error names (Pebble writes names
// like 000002.log, 000005.sst, MANIFEST-000001 into its messages).
var engineFile = regexp.MustCompile(`\b(\d{6}\.(?:log|sst|blob)|MANIFEST-\d+|OPTIONS-\d+|marker\.[a-z-]+\.\d+\.[A-Za-z0-9-]+)\b`)
