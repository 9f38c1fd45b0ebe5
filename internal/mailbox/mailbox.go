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
//
// # The send path takes no lock
//
// Over an in-memory queue (store.Volatile) a sender reserves a slot with a
// compare-and-swap on the depth counter (which also carries the closed
// flag, so a reservation and Close cannot cross), appends its envelope to
// a lock-free arrival queue (mpsc.go), and starts a worker if the state
// word says none runs. The worker takes the mailbox lock once per batch:
// it moves every arrival into the store queue, which orders them by
// priority, and pops the batch. Sender and worker therefore never wait on
// each other; only blocked senders, lifecycle calls and the worker share
// the lock. A durable queue must hold an envelope before Push returns, so
// there senders queue under the lock as before (and wait for the disk
// after releasing it).
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

// Worker state bits (Mailbox.state). A worker may be claimed only when the
// word is zero: none running, not paused, not closed.
const (
	stRunning uint32 = 1 << iota
	stPaused
	stClosed
)

// depthClosed is set in Mailbox.depth by Close: reservations fail from
// then on, and the count below it stops growing.
const depthClosed int64 = 1 << 62

// Mailbox is safe for concurrent use by many senders and its worker.
type Mailbox struct {
	// Written by senders.
	head  atomic.Pointer[node] // newest arrival (mpsc.go)
	depth atomic.Int64         // queued envelopes, arriving ones included; | depthClosed
	state atomic.Uint32        // stRunning | stPaused | stClosed

	stub node  // the arrival queue's dummy
	tail *node // oldest arrival; under mu

	mu       sync.Mutex
	q        store.Queue
	async    store.AsyncPusher // q, if it can push asynchronously (checked once)
	direct   bool              // senders push into q under mu (not a Volatile queue)
	capacity int64
	start    func()        // launches a worker; called without the lock held
	stop     chan struct{} // closed by Pause: the worker should finish up; nil until a worker asks (Stopping)
	exited   chan struct{} // closed when the running worker exits; nil until asked for
	space    chan struct{} // closed when space frees up; made by the first waiter (nil until then: idle agents are many)
	waiters  int           // senders blocked on space
	inflight atomic.Int64  // taken by the worker and not yet Done or Released
}

// closedChan is the always-closed channel returned when nothing is to be
// waited for. It holds no state.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// New returns a paused mailbox over q holding at most capacity queued
// envelopes (in-flight ones do not count). start must launch a goroutine
// that runs the worker protocol: Take until empty, then Idle; on Stopping,
// Release what is left and Exit.
func New(q store.Queue, capacity int, start func()) *Mailbox {
	m := &Mailbox{q: q, capacity: int64(capacity), start: start, stop: closedChan}
	m.state.Store(stPaused)
	m.head.Store(&m.stub)
	m.tail = &m.stub
	m.depth.Store(int64(q.Len())) // a durable queue reopens with its backlog
	m.async, _ = q.(store.AsyncPusher)
	v, ok := q.(store.Volatile)
	m.direct = !ok || !v.Volatile()
	return m
}

// Depth returns the number of queued envelopes.
func (m *Mailbox) Depth() int { return int(m.depth.Load() &^ depthClosed) }

// Load returns queued plus in-flight envelopes: the work this mailbox's
// worker has ahead of it. Take counts an envelope in flight before it stops
// counting it as queued, so Load never misses a message in transit.
func (m *Mailbox) Load() int { return m.Depth() + int(m.inflight.Load()) }

// reserve claims a queue slot: ErrClosed after Close, ErrFull at capacity
// (unless force).
func (m *Mailbox) reserve(force bool) error {
	for {
		d := m.depth.Load()
		switch {
		case d&depthClosed != 0:
			return ErrClosed
		case !force && d >= m.capacity:
			return ErrFull
		}
		if m.depth.CompareAndSwap(d, d+1) {
			return nil
		}
	}
}

// Push queues e. With block set, a full mailbox makes Push wait for space,
// for ctx to end, or for abort to close (ErrAborted; nil never closes);
// otherwise it returns ErrFull at once. It starts a worker if none runs.
func (m *Mailbox) Push(ctx context.Context, e store.Envelope, block bool, abort <-chan struct{}) error {
	n := &node{env: e}
	if m.direct {
		return m.pushDirect(ctx, n, false, block, abort)
	}
	err := m.reserve(false)
	if errors.Is(err, ErrFull) && block {
		err = m.awaitSpace(ctx, abort)
	}
	if err != nil {
		return err
	}
	m.pushNode(n)
	m.wake()
	return nil
}

// PushForce queues e even beyond capacity. The runtime uses it for messages
// it must not lose and cannot block on, such as a failure notice to an agent
// whose own handler is the one sending.
func (m *Mailbox) PushForce(e store.Envelope) error {
	n := &node{env: e}
	if m.direct {
		return m.pushDirect(context.Background(), n, true, false, nil)
	}
	if err := m.reserve(true); err != nil {
		return err
	}
	m.pushNode(n)
	m.wake()
	return nil
}

// awaitSpace blocks until a slot is reserved, ctx ends or abort closes.
// Slots are freed only under mu (Take, Close), and a waiter registers
// under mu before it sleeps, so no wake-up is missed.
func (m *Mailbox) awaitSpace(ctx context.Context, abort <-chan struct{}) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.awaitSpaceLocked(ctx, abort)
}

func (m *Mailbox) awaitSpaceLocked(ctx context.Context, abort <-chan struct{}) error {
	for {
		err := m.reserve(false)
		if !errors.Is(err, ErrFull) {
			return err
		}
		if m.space == nil {
			m.space = make(chan struct{})
		}
		space := m.space
		m.waiters++
		m.mu.Unlock()
		var stop error
		select {
		case <-space:
		case <-ctx.Done():
			stop = ctx.Err()
		case <-abort:
			stop = ErrAborted
		}
		m.mu.Lock()
		m.waiters--
		if stop != nil {
			return stop
		}
	}
}

// pushDirect queues n into the store under the lock: the path of queues
// that must hold an envelope before Push returns.
//
// A queue that can push asynchronously (store.AsyncPusher, a durable store)
// is given the envelope under the lock — its order is fixed there — and
// waited for after the lock is released, so one disk sync serves many
// concurrent senders instead of serialising them. A worker may take the
// envelope before it is durable; that is safe, since the sender has no
// promise until Push returns, and an ack is ordered after the push in the
// store.
func (m *Mailbox) pushDirect(ctx context.Context, n *node, force, block bool, abort <-chan struct{}) error {
	m.mu.Lock()
	err := m.reserve(force)
	if errors.Is(err, ErrFull) && block {
		err = m.awaitSpaceLocked(ctx, abort)
	}
	if err != nil {
		m.mu.Unlock()
		return err
	}
	var wait func() error
	if m.async != nil {
		wait, err = m.async.PushAsync(&n.env)
	} else {
		err = m.q.Push(&n.env)
	}
	if err != nil {
		m.depth.Add(-1)
		m.wakeWaitersLocked()
		m.mu.Unlock()
		return err
	}
	m.mu.Unlock()
	m.wake()
	if wait != nil {
		return wait()
	}
	return nil
}

// wake starts a worker if none runs and the box is neither paused nor
// closed. It runs after the envelope is visible to the worker: a worker
// that retired before seeing it has cleared stRunning by then (Idle), so
// one of the two always handles it.
func (m *Mailbox) wake() {
	if m.state.Load() == 0 && m.state.CompareAndSwap(0, stRunning) {
		m.start()
	}
}

func (m *Mailbox) wakeWaitersLocked() {
	// Nil: the waiters were woken already and not all have run yet; one
	// that finds the box still full makes a fresh channel.
	if m.waiters > 0 && m.space != nil {
		close(m.space)
		m.space = nil
	}
}

// Close stops intake: later pushes fail with ErrClosed, blocked senders are
// released with ErrClosed, and no worker starts again. It returns the
// envelopes still queued, in handling order, so the caller can account for
// every one of them.
func (m *Mailbox) Close() []*store.Envelope {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state.Load()&stClosed == 0 {
		if old := m.state.Or(stClosed | stPaused); old&stPaused == 0 {
			m.closeStopLocked()
		}
		m.depth.Or(depthClosed)
		if m.space != nil {
			close(m.space) // release blocked senders: they see the closed flag
			m.space = nil
		}
	}
	// Every slot reserved before the closed flag is an envelope in the
	// store queue, linked, or about to be linked by a sender between its
	// reservation and its append: wait for those few instructions.
	want := int(m.depth.Load() &^ depthClosed)
	var rest []*store.Envelope
	for {
		m.drainLocked()
		for e := m.q.Pop(); e != nil; e = m.q.Pop() {
			rest = append(rest, e)
		}
		if len(rest) >= want {
			break
		}
		m.mu.Unlock()
		yield()
		m.mu.Lock()
	}
	m.depth.Store(depthClosed)
	return rest
}
