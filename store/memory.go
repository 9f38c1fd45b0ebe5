package store

import (
	"context"
	"iter"
	"slices"
	"sync"

	"github.com/caxton-go/caxton/acl"
)

// Memory is the default Store: queues and dead letters in process memory.
// Everything is lost when the process ends; use a durable Store when that
// matters.
type Memory struct {
	mu     sync.Mutex
	closed bool
	dead   memoryDLQ
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{} }

// OpenQueue returns a new empty queue; in memory there is nothing to recover.
func (s *Memory) OpenQueue(string) (Queue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return &memoryQueue{}, nil
}

// DeadLetters returns the in-memory dead-letter queue.
func (s *Memory) DeadLetters() DeadLetterQueue { return &s.dead }

// Close marks the store closed. Dead letters stay readable, so a host can
// inspect them after the runtime closed.
func (s *Memory) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// memoryQueue keeps one FIFO ring per priority level.
type memoryQueue struct {
	lanes [3]ring // index: priority + 1 (low, normal, high)
	seq   uint64
	n     int
}

func lane(p acl.Priority) int {
	switch {
	case p > acl.PriorityNormal:
		return 2
	case p < acl.PriorityNormal:
		return 0
	}
	return 1
}

func (q *memoryQueue) Push(e *Envelope) error {
	q.seq++
	e.Seq = q.seq
	q.lanes[lane(e.Msg.Priority)].pushBack(e)
	q.n++
	return nil
}

func (q *memoryQueue) Pop() *Envelope {
	for i := len(q.lanes) - 1; i >= 0; i-- {
		if e := q.lanes[i].popFront(); e != nil {
			q.n--
			return e
		}
	}
	return nil
}

func (q *memoryQueue) Release(e *Envelope) error {
	q.lanes[lane(e.Msg.Priority)].pushFront(e)
	q.n++
	return nil
}

func (q *memoryQueue) Retry(*Envelope) error { return nil } // the envelope itself carries Attempts
func (q *memoryQueue) Ack(*Envelope) error   { return nil } // popped envelopes are already gone
func (q *memoryQueue) Len() int              { return q.n }
func (q *memoryQueue) Volatile() bool        { return true } // see Volatile
func (q *memoryQueue) Close() error          { return nil }

// ring is a growable circular FIFO; it avoids the per-item allocation and
// the re-slicing leak of a plain slice queue.
type ring struct {
	buf        []*Envelope
	head, size int
}

// grow doubles the ring, starting at 4: most queues hold a message or two at
// a time, and every agent that ever got a message keeps its ring (a million
// sleeping agents kept 128 MiB of 16-slot rings).
func (r *ring) grow() {
	n := max(2*len(r.buf), 4)
	nb := make([]*Envelope, n)
	for i := 0; i < r.size; i++ {
		nb[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = nb, 0
}

func (r *ring) pushBack(e *Envelope) {
	if r.size == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.size)%len(r.buf)] = e
	r.size++
}

func (r *ring) pushFront(e *Envelope) {
	if r.size == len(r.buf) {
		r.grow()
	}
	r.head = (r.head - 1 + len(r.buf)) % len(r.buf)
	r.buf[r.head] = e
	r.size++
}

func (r *ring) popFront() *Envelope {
	if r.size == 0 {
		return nil
	}
	e := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	if r.size == 0 && len(r.buf) > 1024 { // give back memory after a burst
		r.buf, r.head = nil, 0
	}
	return e
}

type memoryDLQ struct {
	mu   sync.Mutex
	list []memoryDead // in the order of Add
	next uint64
}

type memoryDead struct {
	seq uint64
	d   DeadLetter
}

func (d *memoryDLQ) Add(ctx context.Context, dl DeadLetter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next++
	d.list = append(d.list, memoryDead{d.next, dl})
	return nil
}

func (d *memoryDLQ) List(ctx context.Context) ([]DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]DeadLetter, len(d.list))
	for i, x := range d.list {
		out[i] = x.d
	}
	return out, nil
}

// All yields the dead letters a page at a time (DeadLetterIterator).
func (d *memoryDLQ) All(ctx context.Context) iter.Seq2[DeadLetter, error] {
	return DeadLetterPages(ctx, func(after uint64, n int) ([]DeadLetter, uint64) {
		d.mu.Lock()
		defer d.mu.Unlock()
		return SeqPage(d.list, func(x memoryDead) uint64 { return x.seq }, func(x memoryDead) DeadLetter { return x.d }, after, n)
	})
}

func (d *memoryDLQ) Remove(ctx context.Context, ids ...string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	before := len(d.list)
	d.list = slices.DeleteFunc(d.list, func(x memoryDead) bool { return slices.Contains(ids, x.d.ID) })
	return before - len(d.list), nil
}

func (d *memoryDLQ) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.list)
}
