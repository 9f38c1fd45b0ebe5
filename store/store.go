// Package store is the seam under Caxton's mailboxes: where queued messages
// and dead letters live. The runtime keeps scheduling (capacity,
// backpressure, wake-ups, retries) in memory and asks a Store only to hold
// envelopes in priority order and to remember what was handled, so a durable
// implementation can replace Memory without changing the data path.
//
// The contract a durable implementation must keep: Push returns only when
// the envelope is safe; Ack is the only way an envelope leaves for good;
// Retry records the attempt count; and OpenQueue returns, ahead of anything
// new, every envelope that was pushed and never acknowledged.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// ErrClosed is returned by a store or queue used after Close.
var ErrClosed = errors.New("store: closed")

// Envelope is one message queued for one receiver. A message sent to several
// receivers has one envelope per receiver and shares the *acl.Message.
type Envelope struct {
	Msg      *acl.Message // the message, shared and read-only
	Receiver acl.AgentID  // the agent this envelope is queued for
	Seq      uint64       // assigned by the queue on Push, increasing
	Attempts int          // handling attempts made so far
	Enqueued time.Time    // when it was accepted, by the runtime's clock
	// OnAck, if set, is called once when the envelope leaves its queue for
	// good (handled or dead-lettered): a remote sender's acknowledgement
	// (package cluster acks a JetStream message there). Stores do not
	// persist it; an envelope recovered after a restart has none.
	OnAck func()
}

// Store opens per-receiver queues and holds dead letters.
type Store interface {
	// OpenQueue opens (or creates) the queue named name. The runtime names
	// one queue per agent instance and opens each name once at a time.
	OpenQueue(name string) (Queue, error)
	// DeadLetters returns the store's dead-letter queue.
	DeadLetters() DeadLetterQueue
	// Close releases the store; queues must not be used afterwards.
	Close() error
}

// Queue holds the envelopes of one receiver, highest priority first and in
// arrival order within a priority. The runtime serialises calls on one
// queue, so implementations need no locking of their own for it.
type Queue interface {
	// Push appends e (and assigns e.Seq).
	Push(e *Envelope) error
	// Pop removes and returns the next envelope, or nil if none is queued.
	// The envelope is in flight until Ack, Retry or Release.
	Pop() *Envelope
	// Release returns an in-flight envelope to the front of its priority,
	// ahead of newer ones, so order survives a stopped worker.
	Release(e *Envelope) error
	// Retry records that an in-flight envelope's attempt failed and will be
	// tried again (e.Attempts already counts it).
	Retry(e *Envelope) error
	// Ack forgets an in-flight envelope for good: handled or dead-lettered.
	Ack(e *Envelope) error
	// Len returns the number of queued (not in-flight) envelopes.
	Len() int
	// Close releases the queue.
	Close() error
}

// DeadLetter is a message that could not be delivered or handled, with the
// story of why.
type DeadLetter struct {
	ID        string       // unique id of this dead letter
	Message   *acl.Message // the message as sent
	Receiver  acl.AgentID  // the agent it was meant for
	Reason    string       // short reason: "max attempts", "agent removed", ...
	Attempts  int          // handling attempts made
	LastError string       // the last handler error, if any
	At        time.Time    // when it was dead-lettered
}

// DeadLetterQueue stores dead letters until they are replayed or purged.
// Implementations must be safe for concurrent use.
//
// Add, List and Remove may wait on a disk or a network, so they take a
// context: an implementation checks it before it starts and stops waiting
// when it ends where it can. A write already handed to a disk is not
// undone; whether it landed is then unknown, as with any write whose
// caller gave up. (The runtime adds dead letters with a context that is
// not cancelled, so none is lost to a runtime closing.)
type DeadLetterQueue interface {
	// Add stores d.
	Add(ctx context.Context, d DeadLetter) error
	// List returns the stored dead letters, oldest first.
	List(ctx context.Context) ([]DeadLetter, error)
	// Remove deletes the dead letters with the given ids and returns how
	// many it found.
	Remove(ctx context.Context, ids ...string) (int, error)
	// Len returns the number of stored dead letters.
	Len() int
}

// ErrFull is matched (errors.Is) by a queue's error when a Push would
// exceed its limit; the runtime reports it as a full mailbox.
var ErrFull = errors.New("store: queue full")

// The optional interfaces below let a durable store do better than the
// plain contract; the runtime checks for each one.

// AsyncPusher is a Queue whose Push can be split: PushAsync queues e in
// order at once and returns wait, which reports when e is durable. The
// mailbox queues under its lock and waits outside it, so one fsync serves
// many senders.
type AsyncPusher interface {
	PushAsync(e *Envelope) (wait func() error, err error)
}

// Volatile is a Queue that keeps nothing beyond the process (Memory's).
// Since there is no durability to promise, the mailbox may hand it an
// envelope after the sender's Push has returned: senders then append to a
// lock-free arrival queue and the worker moves arrivals into the Queue in
// batches, instead of every sender taking the queue's lock. A queue that
// does not implement it (or returns false) receives every envelope before
// Push returns.
type Volatile interface {
	Volatile() bool
}

// RetryScheduler is a Queue that persists when a failed envelope may be
// tried again, so backoff survives a restart.
type RetryScheduler interface {
	RetryAt(e *Envelope, notBefore time.Time) error
	NotBefore(e *Envelope) time.Time
}

// Durable is a Store whose queues outlive the process: at Close the
// runtime leaves queued messages where they are (they are redelivered
// after a restart) instead of dead-lettering them.
type Durable interface {
	Store
	Durable() bool
	// Queues lists the queues that exist, so the runtime can accept
	// messages for agents not spawned yet after a restart.
	Queues() []string
	// DeleteQueue removes a queue that is not open (a removed agent's).
	DeleteQueue(name string) error
}
