// Package mailbox is the bounded, priority-ordered queue in front of one
// agent instance. It adds to a store.Queue what the store does not know
// about: capacity, backpressure (a sender blocks until there is space or
// its context ends), and the instance's worker.
//
// Workers run on demand: the push that finds no worker running starts one
// (through the start callback), and the worker exits when it finds the box
// empty. An idle agent therefore costs no goroutine at all, which is what
// lets a process hold tens of thousands of agents, and spawning one costs
// no goroutine start.
package mailbox

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

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

// Mailbox is safe for concurrent use by many senders and its worker.
type Mailbox struct {
	mu       sync.Mutex
	q        store.Queue
	async    store.AsyncPusher // q, if it can push asynchronously (checked once)
	capacity int
	start    func() // launches a worker; called without the lock held
	closed   bool
	paused   bool          // no worker may start (agent stopped)
	running  bool          // a worker is active
	stop     chan struct{} // closed by Pause: the worker should finish up
	exited   chan struct{} // closed when the active worker exits
	space    chan struct{} // closed (and replaced) when space frees up
	waiters  int           // senders blocked on space
	depth    atomic.Int64  // queued envelopes, readable without the lock
	inflight atomic.Int64  // taken by the worker and not yet Done or Released
}

// New returns a paused mailbox over q holding at most capacity queued
// envelopes (in-flight ones do not count). start must launch a goroutine
// that runs the worker protocol: Take until empty, then Idle; on Stopping,
// Release what is left and Exit.
func New(q store.Queue, capacity int, start func()) *Mailbox {
	closedCh := make(chan struct{})
	close(closedCh)
	m := &Mailbox{q: q, capacity: capacity, start: start, paused: true,
		stop: closedCh, exited: closedCh, space: make(chan struct{})}
	m.depth.Store(int64(q.Len())) // a durable queue reopens with its backlog
	m.async, _ = q.(store.AsyncPusher)
	return m
}

// Depth returns the number of queued envelopes.
func (m *Mailbox) Depth() int { return int(m.depth.Load()) }

// Load returns queued plus in-flight envelopes: the work this mailbox's
// worker has ahead of it. Take moves envelopes from one count to the other
// atomically, so Load never misses a message in transit.
func (m *Mailbox) Load() int { return int(m.depth.Load() + m.inflight.Load()) }

// Push queues e. With block set, a full mailbox makes Push wait for space,
// for ctx to end, or for abort to close (ErrAborted; nil never closes);
// otherwise it returns ErrFull at once. It starts a worker if none runs.
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
		var err error
		select {
		case <-space:
		case <-ctx.Done():
			err = ctx.Err()
		case <-abort:
			err = ErrAborted
		}
		m.mu.Lock()
		m.waiters--
		if err != nil {
			m.mu.Unlock()
			return err
		}
	}
	return m.pushLocked(e)
}

// PushForce queues e even beyond capacity. The runtime uses it for messages
// it must not lose and cannot block on, such as a failure notice to an agent
// whose own handler is the one sending.
func (m *Mailbox) PushForce(e *store.Envelope) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return m.pushLocked(e)
}

// pushLocked appends e, unlocks, and starts a worker if one is needed.
//
// A queue that can push asynchronously (store.AsyncPusher, a durable store)
// is given e under the lock — its order is fixed there — and waited for
// after the lock is released, so one disk sync serves many concurrent
// senders instead of serialising them. A worker may take e before it is
// durable; that is safe, since the sender has no promise until Push
// returns, and an ack is ordered after the push in the store.
func (m *Mailbox) pushLocked(e *store.Envelope) error {
	var wait func() error
	if m.async != nil {
		w, err := m.async.PushAsync(e)
		if err != nil {
			m.mu.Unlock()
			return err
		}
		wait = w
	} else if err := m.q.Push(e); err != nil {
		m.mu.Unlock()
		return err
	}
	m.depth.Add(1)
	start := m.claimLocked()
	m.mu.Unlock()
	if start {
		m.start()
	}
	if wait != nil {
		return wait()
	}
	return nil
}

// claimLocked marks a worker as running if one should start now.
func (m *Mailbox) claimLocked() bool {
	if m.running || m.paused || m.closed || m.q.Len() == 0 {
		return false
	}
	m.running = true
	m.exited = make(chan struct{})
	return true
}

// Take pops up to len(buf) envelopes into buf and returns them (nil when
// the box is empty). Taken envelopes are in flight until Done or Release.
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
	if n > 0 {
		m.inflight.Add(int64(n))
		m.depth.Add(int64(-n))
		if m.waiters > 0 {
			close(m.space)
			m.space = make(chan struct{})
		}
	}
	m.mu.Unlock()
	return buf[:n]
}

// Idle is called by the worker after Take found nothing. If the box is
// still empty the worker is retired and Idle returns true: the worker must
// return. If a message slipped in meanwhile it returns false.
func (m *Mailbox) Idle() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.q.Len() > 0 && !m.paused {
		return false
	}
	m.retireLocked()
	return true
}

// Exit retires the worker early (after Pause, or when its agent failed).
// If work remains and the mailbox is not paused, a new worker is started.
func (m *Mailbox) Exit() {
	m.mu.Lock()
	m.retireLocked()
	start := m.claimLocked()
	m.mu.Unlock()
	if start {
		m.start()
	}
}

func (m *Mailbox) retireLocked() {
	if m.running {
		m.running = false
		close(m.exited)
	}
}

// Stopping returns a channel closed when the worker should finish its
// current message, put the rest back (Release) and Exit.
func (m *Mailbox) Stopping() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stop
}

// Pause keeps workers from starting and asks the running one to stop. The
// returned channel is closed once no worker runs.
func (m *Mailbox) Pause() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.paused {
		m.paused = true
		close(m.stop)
	}
	return m.exited
}

// Resume lets workers start again, starting one at once if messages wait.
func (m *Mailbox) Resume() {
	m.mu.Lock()
	if m.paused {
		m.paused = false
		m.stop = make(chan struct{})
	}
	start := m.claimLocked()
	m.mu.Unlock()
	if start {
		m.start()
	}
}

// Done tells the mailbox the worker finished n taken envelopes (acknowledged
// or dead-lettered).
func (m *Mailbox) Done(n int) { m.inflight.Add(int64(-n)) }

// Ack tells the store that in-flight envelopes are done with, then calls
// their OnAck hooks (outside the lock: a hook may do I/O).
func (m *Mailbox) Ack(es ...*store.Envelope) error {
	m.mu.Lock()
	var errs []error
	hooks := false
	for _, e := range es {
		if err := m.q.Ack(e); err != nil {
			errs = append(errs, err)
		}
		hooks = hooks || e.OnAck != nil
	}
	m.mu.Unlock()
	if hooks {
		for _, e := range es {
			if e.OnAck != nil {
				e.OnAck()
			}
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

// RetryAt is Retry that also records when e may be tried again, for a
// queue that persists it (store.RetryScheduler); others just Retry.
func (m *Mailbox) RetryAt(e *store.Envelope, notBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rs, ok := m.q.(store.RetryScheduler); ok {
		return rs.RetryAt(e, notBefore)
	}
	return m.q.Retry(e)
}

// NotBefore returns when e may be tried again, as its queue recorded it
// (zero if the queue records nothing: then at once).
func (m *Mailbox) NotBefore(e *store.Envelope) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rs, ok := m.q.(store.RetryScheduler); ok {
		return rs.NotBefore(e)
	}
	return time.Time{}
}

// Release puts in-flight envelopes back at the front, in the given order,
// so a stopped worker loses neither messages nor their order. After Close
// nothing is put back: Release returns ErrClosed and the envelopes, which
// the caller must account for (dead-letter them).
func (m *Mailbox) Release(es []*store.Envelope) ([]*store.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inflight.Add(int64(-len(es)))
	if m.closed {
		return es, ErrClosed
	}
	var errs []error
	var refused []*store.Envelope
	for i := len(es) - 1; i >= 0; i-- {
		if err := m.q.Release(es[i]); err != nil {
			errs = append(errs, err)
			refused = append(refused, es[i])
			continue
		}
		m.depth.Add(1)
	}
	return refused, errors.Join(errs...)
}

// Exited returns a channel closed once no worker runs.
func (m *Mailbox) Exited() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.exited
}

// Close stops intake: later pushes fail with ErrClosed, blocked senders are
// released with ErrClosed, and no worker starts again. It returns the
// envelopes still queued, so the caller can account for every one of them.
func (m *Mailbox) Close() []*store.Envelope {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.space)
		m.space = make(chan struct{})
		if !m.paused {
			m.paused = true
			close(m.stop)
		}
	}
	var rest []*store.Envelope
	for e := m.q.Pop(); e != nil; e = m.q.Pop() {
		rest = append(rest, e)
	}
	m.depth.Store(0)
	return rest
}
