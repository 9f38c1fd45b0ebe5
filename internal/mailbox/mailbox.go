// Package mailbox is the bounded, priority-ordered queue in front of one
// agent instance. It adds to a store.Queue what the store does not know
// about: capacity, backpressure (a sender blocks until there is space or
// its context ends), and waking the instance's worker without a channel
// send per message.
package mailbox

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/caxton-go/caxton/store"
)

var (
	// ErrFull is returned by Push when the mailbox is at capacity and the
	// caller chose not to wait.
	ErrFull = errors.New("mailbox full")
	// ErrClosed is returned by Push after Close.
	ErrClosed = errors.New("mailbox closed")
	// ErrAborted is returned by a blocked Push whose abort channel closed.
	ErrAborted = errors.New("mailbox push aborted")
)

// Mailbox is safe for concurrent use by many senders and one worker.
type Mailbox struct {
	mu       sync.Mutex
	q        store.Queue
	capacity int
	closed   bool
	idle     bool          // the worker found the box empty and waits on ready
	ready    chan struct{} // capacity 1: wakes the worker
	space    chan struct{} // closed (and replaced) when space frees up
	waiters  int           // senders blocked on space
	depth    atomic.Int64  // queued envelopes, readable without the lock
	inflight atomic.Int64  // taken by the worker and not yet Done or Released
}

// New returns a mailbox over q holding at most capacity queued envelopes
// (in-flight ones do not count).
func New(q store.Queue, capacity int) *Mailbox {
	return &Mailbox{q: q, capacity: capacity, ready: make(chan struct{}, 1), space: make(chan struct{})}
}

// Depth returns the number of queued envelopes.
func (m *Mailbox) Depth() int { return int(m.depth.Load()) }

// Load returns queued plus in-flight envelopes: the work this mailbox's
// worker has ahead of it. Take moves envelopes from one count to the other
// atomically, so Load never misses a message in transit.
func (m *Mailbox) Load() int { return int(m.depth.Load() + m.inflight.Load()) }

// Done tells the mailbox the worker finished n taken envelopes (acknowledged
// or dead-lettered).
func (m *Mailbox) Done(n int) { m.inflight.Add(int64(-n)) }

// Push queues e. With block set, a full mailbox makes Push wait for space,
// for ctx to end, or for abort to close (ErrAborted; nil never closes);
// otherwise it returns ErrFull at once.
func (m *Mailbox) Push(ctx context.Context, e *store.Envelope, block bool, abort <-chan struct{}) error {
	m.mu.Lock()
	for {
		if m.closed {
			m.mu.Unlock()
			return ErrClosed
		}
		if m.q.Len() < m.capacity {
			break
		}
		if !block {
			m.mu.Unlock()
			return ErrFull
		}
		space := m.space
		m.waiters++
		m.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			m.mu.Lock()
			m.waiters--
			m.mu.Unlock()
			return ctx.Err()
		case <-abort:
			m.mu.Lock()
			m.waiters--
			m.mu.Unlock()
			return ErrAborted
		}
		m.mu.Lock()
		m.waiters--
	}
	err := m.q.Push(e)
	if err == nil {
		m.depth.Add(1)
		m.wakeLocked()
	}
	m.mu.Unlock()
	return err
}

// PushForce queues e even beyond capacity. The runtime uses it for messages
// it must not lose and cannot block on, such as a failure notice to an agent
// whose own handler is the one sending.
func (m *Mailbox) PushForce(e *store.Envelope) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := m.q.Push(e); err != nil {
		return err
	}
	m.depth.Add(1)
	m.wakeLocked()
	return nil
}

func (m *Mailbox) wakeLocked() {
	if m.idle {
		m.idle = false
		select {
		case m.ready <- struct{}{}:
		default:
		}
	}
}

// Take pops up to len(buf) envelopes into buf and returns them. When it
// finds the box empty it returns nil and arms Ready, so the worker can wait
// on Ready without missing a Push that lands in between.
func (m *Mailbox) Take(buf []*store.Envelope) []*store.Envelope {
	m.mu.Lock()
	n := 0
	for n < len(buf) {
		e := m.q.Pop()
		if e == nil {
			break
		}
		buf[n] = e
		n++
	}
	if n == 0 {
		m.idle = true
	} else {
		m.inflight.Add(int64(n))
		m.depth.Add(int64(-n))
		m.freedLocked()
	}
	m.mu.Unlock()
	return buf[:n]
}

func (m *Mailbox) freedLocked() {
	if m.waiters > 0 {
		close(m.space)
		m.space = make(chan struct{})
	}
}

// Ready is signalled after Take returned nothing and a message arrived.
func (m *Mailbox) Ready() <-chan struct{} { return m.ready }

// Ack tells the store that in-flight envelopes are done with.
func (m *Mailbox) Ack(es ...*store.Envelope) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, e := range es {
		if err := m.q.Ack(e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Retry records a failed attempt of an in-flight envelope.
func (m *Mailbox) Retry(e *store.Envelope) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.q.Retry(e)
}

// Release puts in-flight envelopes back at the front, in the given order,
// so a stopped worker loses neither messages nor their order.
func (m *Mailbox) Release(es []*store.Envelope) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for i := len(es) - 1; i >= 0; i-- {
		m.inflight.Add(-1)
		if err := m.q.Release(es[i]); err != nil {
			errs = append(errs, err)
			continue
		}
		m.depth.Add(1)
	}
	return errors.Join(errs...)
}

// Close stops intake: later pushes fail with ErrClosed and blocked senders
// are released with ErrClosed. It returns the envelopes still queued, so the
// caller can account for every one of them.
func (m *Mailbox) Close() []*store.Envelope {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.space)
		m.space = make(chan struct{})
	}
	var rest []*store.Envelope
	for e := m.q.Pop(); e != nil; e = m.q.Pop() {
		rest = append(rest, e)
	}
	m.depth.Store(0)
	return rest
}
