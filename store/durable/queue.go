package durable

import (
	"fmt"
	"sync"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
)

var _ store.Queue = (*Queue)(nil)

// Queue is one receiver's durable queue. Reads (Pop, Len) are served from
// memory; the disk is written on Push (waiting for the group commit's
// fsync), Retry (likewise) and Ack (not waited for: a lost ack means a
// redelivery, which at-least-once allows). Release touches only memory,
// because the order on disk is arrival order already.
//
// As the store.Queue contract says, calls on one queue must be serialised
// by the caller (the runtime's mailbox does); different queues may be used
// concurrently, and their pushes share fsyncs.
type Queue struct {
	s     *Store
	name  string
	qid   uint32
	limit int

	lanes     [3]ring
	n         int                  // queued (not in flight)
	inflight  map[uint64]struct{}  // seqs handed out by Pop and not settled
	notBefore map[uint64]time.Time // persisted retry times, by seq
	rewritten map[uint64]struct{}  // seqs whose record Retry wrote again
	closed    bool
}

func newQueue(s *Store, name string, qid uint32) *Queue {
	return &Queue{s: s, name: name, qid: qid, limit: s.cfg.queueLimit,
		inflight: map[uint64]struct{}{}, notBefore: map[uint64]time.Time{},
		rewritten: map[uint64]struct{}{}}
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// SetLimit overrides WithQueueLimit for this queue (n <= 0: no limit), for
// agents whose backlog deserves a different bound.
func (q *Queue) SetLimit(n int) { q.limit = max(n, 0) }

// requestPool recycles push requests: a push allocates nothing else but its
// encoded record and key.
var requestPool = sync.Pool{New: func() any {
	return &request{ops: make([]op, 0, 4), sync: true, done: make(chan error, 1)}
}}

// Push writes e to disk and returns once it is fsync'd (sharing the fsync
// with concurrent pushes to any queue of the store), then queues it. It
// assigns e.Seq. A full queue refuses it with a *QueueFullError.
func (q *Queue) Push(e *store.Envelope) error {
	r, seq, err := q.prepare(e)
	if err != nil {
		return err
	}
	err = q.s.submit(r)
	release(r)
	if err != nil {
		return err
	}
	q.queued(e, seq)
	return nil
}

// PushAsync is Push split in two, for a caller that serialises queue calls
// under a lock (the runtime's mailbox) and should not hold it for an fsync:
// it queues e at once — in order, visible to Pop — and hands its write to
// the group commit, and the returned wait blocks until that write is on
// disk (or failed). Call wait outside the lock, exactly once; only when it
// returns nil may the sender be told the message is safe. An envelope
// popped and handled before wait returns is fine: its ack is written after
// its push. If the write fails, the envelope stays queued in memory but the
// store has failed (ErrFailed) and accepts no more writes.
func (q *Queue) PushAsync(e *store.Envelope) (wait func() error, err error) {
	r, seq, err := q.prepare(e)
	if err != nil {
		return nil, err
	}
	if err := q.s.enqueue(r); err != nil {
		release(r)
		return nil, err
	}
	e.Seq = seq
	q.lanes[lane(e.Msg.Priority)].pushBack(e)
	q.n++
	h, receiver, msg := q.s.hist, e.Receiver, e.Msg
	return func() error {
		err := <-r.done
		release(r)
		if err == nil && h != nil {
			h.record(receiver, msg)
		}
		return err
	}, nil
}

// prepare checks e against the queue and encodes its write.
func (q *Queue) prepare(e *store.Envelope) (*request, uint64, error) {
	if q.closed || q.s.isClosed() {
		return nil, 0, ErrClosed
	}
	if e == nil || e.Msg == nil {
		return nil, 0, fmt.Errorf("durable: Push to %q: envelope without a message", q.name)
	}
	if q.limit > 0 && q.n+len(q.inflight) >= q.limit {
		return nil, 0, &QueueFullError{Queue: q.name, Limit: q.limit}
	}
	seq := q.s.seq.Add(1)
	r := requestPool.Get().(*request)
	r.ops = append(r.ops[:0], op{kind: opSet, key: queueKey(q.qid, seq), val: encodeEnvelope(nil, e, time.Time{})})
	return r, seq, nil
}

// queued makes a written envelope visible to Pop.
func (q *Queue) queued(e *store.Envelope, seq uint64) {
	e.Seq = seq
	q.lanes[lane(e.Msg.Priority)].pushBack(e)
	q.n++
	if h := q.s.hist; h != nil {
		h.record(e.Receiver, e.Msg)
	}
}

func release(r *request) {
	clear(r.ops)
	requestPool.Put(r)
}

// Pop removes and returns the next envelope, highest priority first, or nil
// when none is queued. It does not touch the disk: the envelope stays there
// until Ack.
func (q *Queue) Pop() *store.Envelope {
	for i := len(q.lanes) - 1; i >= 0; i-- {
		if e := q.lanes[i].popFront(); e != nil {
			q.n--
			q.inflight[e.Seq] = struct{}{}
			return e
		}
	}
	return nil
}

// settle checks that e is in flight here and takes it out of flight. It
// works after Close, so envelopes taken before the handle was closed (say,
// drained to be dead-lettered) can still be acknowledged.
func (q *Queue) settle(e *store.Envelope) error {
	if e == nil {
		return fmt.Errorf("%w: %q: nil envelope", ErrNotInFlight, q.name)
	}
	if _, ok := q.inflight[e.Seq]; !ok {
		return fmt.Errorf("%w: %q seq %d", ErrNotInFlight, q.name, e.Seq)
	}
	delete(q.inflight, e.Seq)
	return nil
}

// Release puts an in-flight envelope back at the front of its priority.
func (q *Queue) Release(e *store.Envelope) error {
	if q.closed {
		return ErrClosed
	}
	if err := q.settle(e); err != nil {
		return err
	}
	q.lanes[lane(e.Msg.Priority)].pushFront(e)
	q.n++
	return nil
}

// Retry persists e.Attempts (waiting for the fsync), so a crash during the
// backoff does not reset the count. e stays in flight.
func (q *Queue) Retry(e *store.Envelope) error { return q.RetryAt(e, time.Time{}) }

// RetryAt is Retry that also persists notBefore, the earliest time of the
// next attempt, so a runtime restarted during a backoff can keep to it
// (see NotBefore). A zero notBefore clears it.
func (q *Queue) RetryAt(e *store.Envelope, notBefore time.Time) error {
	if e == nil {
		return fmt.Errorf("%w: %q: nil envelope", ErrNotInFlight, q.name)
	}
	if _, ok := q.inflight[e.Seq]; !ok {
		return fmt.Errorf("%w: %q seq %d", ErrNotInFlight, q.name, e.Seq)
	}
	if err := q.s.write(op{kind: opSet, key: queueKey(q.qid, e.Seq), val: encodeEnvelope(nil, e, notBefore)}); err != nil {
		return err
	}
	q.rewritten[e.Seq] = struct{}{}
	if notBefore.IsZero() {
		delete(q.notBefore, e.Seq)
	} else {
		q.notBefore[e.Seq] = notBefore
	}
	return nil
}

// NotBefore returns the retry time last persisted for e by RetryAt (zero if
// none), including one recovered after a restart.
func (q *Queue) NotBefore(e *store.Envelope) time.Time {
	if e == nil {
		return time.Time{}
	}
	return q.notBefore[e.Seq]
}

// Ack deletes an in-flight envelope for good. The delete rides along with
// the next group commit; Ack does not wait for it (Store.Sync does).
func (q *Queue) Ack(e *store.Envelope) error {
	if err := q.settle(e); err != nil {
		return err
	}
	delete(q.notBefore, e.Seq)
	// A record written exactly once (pushed by this process, never
	// retried) is removed with a single-delete: when it meets its set in
	// the memtable flush, both vanish, so an envelope acked soon after its
	// push costs the LSM no tombstone to carry down through compactions.
	kind := opSingleDelete
	if _, ok := q.rewritten[e.Seq]; ok || e.Seq <= q.s.openSeq {
		kind = opDelete
		delete(q.rewritten, e.Seq)
	}
	return q.s.submit(&request{ops: []op{{kind: kind, key: queueKey(q.qid, e.Seq)}}})
}

// Len returns the number of queued (not in-flight) envelopes.
func (q *Queue) Len() int { return q.n }

// InFlight returns the number of envelopes popped and not yet settled.
func (q *Queue) InFlight() int { return len(q.inflight) }

// Close releases the queue handle. Its envelopes stay on disk, in flight or
// not, and come back from the next OpenQueue of the same name.
func (q *Queue) Close() error {
	if q.closed {
		return nil
	}
	q.closed = true
	q.s.qmu.Lock()
	if q.s.open[q.name] == q {
		delete(q.s.open, q.name)
	}
	q.s.qmu.Unlock()
	return nil
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

// ring is a growable circular FIFO (the same as store.Memory's).
type ring struct {
	buf        []*store.Envelope
	head, size int
}

func (r *ring) grow() {
	n := max(2*len(r.buf), 16)
	nb := make([]*store.Envelope, n)
	for i := 0; i < r.size; i++ {
		nb[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = nb, 0
}

func (r *ring) pushBack(e *store.Envelope) {
	if r.size == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.size)%len(r.buf)] = e
	r.size++
}

func (r *ring) pushFront(e *store.Envelope) {
	if r.size == len(r.buf) {
		r.grow()
	}
	r.head = (r.head - 1 + len(r.buf)) % len(r.buf)
	r.buf[r.head] = e
	r.size++
}

func (r *ring) popFront() *store.Envelope {
	if r.size == 0 {
		return nil
	}
	e := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	if r.size == 0 && len(r.buf) > 1024 {
		r.buf, r.head = nil, 0
	}
	return e
}

var (
	_ store.AsyncPusher    = (*Queue)(nil)
	_ store.RetryScheduler = (*Queue)(nil)
)
