package mailbox

import (
	"errors"
	"runtime"
	"time"

	"github.com/caxton-go/caxton/store"
)

// yield lets a sender between its reservation and its append run.
func yield() { runtime.Gosched() }

// Take pops up to len(buf) envelopes into buf, highest priority first, and
// returns them (nil when the box is empty). Taken envelopes are in flight
// until Done or Release.
func (m *Mailbox) Take(buf []*store.Envelope) []*store.Envelope {
	m.mu.Lock()
	if !m.direct {
		m.drainLocked()
	}
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
		m.wakeWaitersLocked()
	}
	m.mu.Unlock()
	return buf[:n]
}

// hasWorkLocked reports whether a Take would find something (an arrival a
// sender is still linking does not count: that sender wakes a worker).
func (m *Mailbox) hasWorkLocked() bool {
	return m.q.Len() > 0 || (!m.direct && m.arrivalsLinked())
}

// Idle is called by the worker after Take found nothing. If the box is
// still empty the worker is retired and Idle returns true: the worker must
// return. If a message slipped in meanwhile it returns false and the
// worker goes on.
func (m *Mailbox) Idle() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hasWorkLocked() && m.state.Load()&(stPaused|stClosed) == 0 {
		return false
	}
	m.retireLocked()
	return !m.takeBackLocked()
}

// takeBackLocked runs after Idle retired the worker: a sender that
// appended before the retirement saw stRunning and left the message to
// this worker, so look again and take the work back (true: the same
// worker goes on, with its stop channel). Otherwise the worker is gone
// and its stop channel is dropped.
func (m *Mailbox) takeBackLocked() bool {
	if m.hasWorkLocked() && m.state.CompareAndSwap(0, stRunning) {
		return true
	}
	m.dropStopLocked()
	return false
}

// Exit retires the worker early (after Pause, or when its agent failed).
// If work remains and the mailbox is not paused, a new worker is started.
func (m *Mailbox) Exit() {
	m.mu.Lock()
	m.retireLocked()
	m.dropStopLocked()
	start := m.hasWorkLocked() && m.state.CompareAndSwap(0, stRunning)
	m.mu.Unlock()
	if start {
		m.start()
	}
}

func (m *Mailbox) retireLocked() {
	if m.state.And(^stRunning)&stRunning != 0 && m.exited != nil {
		close(m.exited)
		m.exited = nil
	}
}

// dropStopLocked forgets the stop channel of a worker that has returned
// for good (never of one that goes on: a Pause must still close the
// channel it watches), unless a Pause closed it: the next worker brings or
// asks for another, and an idle mailbox holds none (a million sleeping
// agents would hold 96 B each). Forgetting it is also what lets the worker
// lend the same channel to its next mailbox (see Lend).
func (m *Mailbox) dropStopLocked() {
	if m.stop != closedChan {
		m.stop = nil
	}
}

// Stopping returns a channel closed when the worker should finish its
// current message, put the rest back (Release) and Exit.
func (m *Mailbox) Stopping() <-chan struct{} { return m.Lend(nil) }

// Lend is Stopping with a channel the worker brings: spare, an open
// channel the worker's goroutine owns, becomes the mailbox's stop channel
// (nil: the mailbox makes one). A pooled goroutine runs the workers of many
// mailboxes one after another, and a new channel per start was most of
// what starting a worker allocated. The mailbox forgets spare when the
// worker returns for good (Idle retiring it, Exit), so the goroutine may
// lend it again — unless a Pause closed it meanwhile: a closed spare must
// be replaced, never lent.
func (m *Mailbox) Lend(spare chan struct{}) <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop == nil { // made on demand: an idle agent's mailbox holds no channel
		if spare == nil {
			spare = make(chan struct{})
		}
		m.stop = spare
	}
	return m.stop
}

// closeStopLocked tells the running worker, if any, to stop: Stopping
// returns a closed channel from now on.
func (m *Mailbox) closeStopLocked() {
	if m.stop != nil && m.stop != closedChan {
		close(m.stop)
	}
	m.stop = closedChan
}

// Pause keeps workers from starting and asks the running one to stop. The
// returned channel is closed once no worker runs.
func (m *Mailbox) Pause() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.state.Or(stPaused); old&stPaused == 0 {
		m.closeStopLocked()
	}
	return m.exitedLocked()
}

// Resume lets workers start again, starting one at once if messages wait.
func (m *Mailbox) Resume() {
	m.mu.Lock()
	if s := m.state.Load(); s&stPaused != 0 && s&stClosed == 0 {
		m.stop = nil
		m.state.And(^stPaused)
	}
	start := m.hasWorkLocked() && m.state.CompareAndSwap(0, stRunning)
	m.mu.Unlock()
	if start {
		m.start()
	}
}

// Exited returns a channel closed once no worker runs.
func (m *Mailbox) Exited() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.exitedLocked()
}

func (m *Mailbox) exitedLocked() <-chan struct{} {
	if m.state.Load()&stRunning == 0 {
		return closedChan
	}
	if m.exited == nil {
		m.exited = make(chan struct{})
	}
	return m.exited
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
// so a stopped worker loses neither messages nor their order. (Arrivals
// not yet in the store queue are all newer than anything taken: Take moves
// every arrival in before it pops.) After Close nothing is put back:
// Release returns ErrClosed and the envelopes, which the caller must
// account for (dead-letter them).
func (m *Mailbox) Release(es []*store.Envelope) ([]*store.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inflight.Add(int64(-len(es)))
	if m.state.Load()&stClosed != 0 {
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
