package mailbox

import (
	"sync/atomic"

	"github.com/caxton-go/caxton/store"
)

// node is one queued envelope on its way from a sender to the worker. The
// envelope lives inside the node, so a send allocates once for both, and
// the store queue is handed &node.env.
type node struct {
	next atomic.Pointer[node]
	env  store.Envelope
}

// The arrival queue is Dmitry Vyukov's intrusive multi-producer,
// single-consumer queue: a sender appends with one atomic swap and one
// store, never a lock and never a retry loop, and the consumer (whoever
// holds the mailbox lock: the worker's Take, Close) unlinks without
// atomics on the fast path. m.stub is the permanent dummy node that lets
// the queue be empty without a nil head.
//
// A sender is between its swap and its link for a couple of instructions;
// the consumer then sees the newest node unreachable and pops nothing
// (arrivalsLinked is false). That sender checks the worker state after it
// links, so it starts a worker if the one that saw nothing has retired.

// pushNode appends n. Any goroutine may call it.
func (m *Mailbox) pushNode(n *node) {
	prev := m.head.Swap(n)
	prev.next.Store(n)
}

// popNode unlinks the oldest arrival, or returns nil if there is none (or
// the oldest is still being linked). Callers hold m.mu.
func (m *Mailbox) popNode() *node {
	tail := m.tail
	next := tail.next.Load()
	if tail == &m.stub {
		if next == nil {
			return nil
		}
		m.tail, tail = next, next
		next = next.next.Load()
	}
	if next != nil {
		m.tail = next
		tail.next.Store(nil) // do not let a handled node keep later ones alive
		return tail
	}
	if tail != m.head.Load() {
		return nil // a sender is linking after tail
	}
	m.stub.next.Store(nil)
	m.pushNode(&m.stub)
	if next = tail.next.Load(); next != nil {
		m.tail = next
		tail.next.Store(nil)
		return tail
	}
	return nil
}

// arrivalsLinked reports whether an arrival can be popped now. Callers
// hold m.mu.
func (m *Mailbox) arrivalsLinked() bool {
	return m.tail != &m.stub || m.stub.next.Load() != nil
}

// drainLocked moves every linked arrival into the store queue, in arrival
// order, so the queue's priority order covers them all before a Take.
func (m *Mailbox) drainLocked() {
	for n := m.popNode(); n != nil; n = m.popNode() {
		_ = m.q.Push(&n.env) // a Volatile queue (memory) cannot fail
	}
}
