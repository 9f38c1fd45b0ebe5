package durable

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// Group commit. Every write goes through one goroutine, the committer: it
// takes whatever requests are waiting, in submission order, writes them as
// one Pebble batch — with one fsync if any of them waits for the disk —
// and then wakes their callers. While one batch is on its way to the disk
// the next one gathers, so under load one fsync (0.25–0.5 ms on this
// machine) carries a hundred or more pushes from many queues.
//
// Before gathering, the committer yields until the callers it just woke
// have had a chance to submit again (runtime.Gosched while the queue keeps
// growing): they are about to, and a batch that waits for them carries them
// all, where one taken at once would carry a few and leave the rest for
// another fsync. On this 2-core machine that one change took the benchmark
// from ~75k to ~150–240k msgs/s.
//
// Requests are applied in the order they were submitted, so an ack can
// never overtake the push it acknowledges, and a dead letter added before
// an ack is on disk no later than the ack. Batches that carry only acks
// (fire-and-forget) are written without an fsync; the next synced batch
// covers them, as the WAL is one sequential file (and Pebble syncs the old
// WAL when it switches to a new one).

// maxBatchBytes bounds one applied batch: big enough to amortise the
// per-batch cost, small enough that one batch never stalls those behind it.
const maxBatchBytes = 4 << 20

type opKind uint8

const (
	opSet opKind = iota
	opDelete
	opDeleteRange
	opSingleDelete
)

type op struct {
	kind     opKind
	key, val []byte // val is the end key for opDeleteRange
}

// request is one caller's unit of work: its ops are committed atomically.
// done is nil for fire-and-forget requests (acks); sync asks for the fsync
// before done is signalled, otherwise done means "applied and readable".
type request struct {
	ops  []op
	sync bool
	done chan error
}

// committer is the store's single writer.
type committer struct {
	db      *pebble.DB
	reqs    chan *request
	exit    chan struct{} // closed when the committer has finished
	onFail  func(error)
	stats   commitStats
	seq     *atomic.Uint64 // the store's envelope sequence
	stamped uint64         // the last value of seq written to metaSeqKey

	failOnce sync.Once
	fail     chan struct{} // closed on the first write error
	err      error         // set before fail is closed
}

// commitStats count the committer's work (see Store.Stats).
type commitStats struct {
	batches, syncs, ops atomic.Uint64
}

func newCommitter(db *pebble.DB, seq *atomic.Uint64, onFail func(error)) *committer {
	c := &committer{db: db, reqs: make(chan *request, 8192), exit: make(chan struct{}),
		fail: make(chan struct{}), onFail: onFail, seq: seq, stamped: seq.Load()}
	go func() {
		defer close(c.exit)
		c.run()
	}()
	return c
}

func (c *committer) run() {
	var pending []*request
	for r := range c.reqs {
		// Let the callers woken by the last commit submit first (see above).
		for i, n := 0, len(c.reqs); i < 64; i++ {
			runtime.Gosched()
			m := len(c.reqs)
			if m == n {
				break
			}
			n = m
		}
		pending = append(pending[:0], r)
		size := r.size()
	gather:
		for size < maxBatchBytes {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break gather
				}
				pending = append(pending, r)
				size += r.size()
			default:
				break gather
			}
		}
		sync := false
		for _, r := range pending {
			sync = sync || r.sync
		}
		err := c.apply(pending, sync)
		for i, r := range pending {
			if r.done != nil {
				r.done <- err
			}
			pending[i] = nil
		}
	}
}

// apply writes rs as one batch, fsync'd if sync.
func (c *committer) apply(rs []*request, sync bool) error {
	if err := c.failure(); err != nil {
		return err
	}
	b := c.db.NewBatch()
	defer b.Close()
	for _, r := range rs {
		for _, o := range r.ops {
			var err error
			switch o.kind {
			case opSet:
				err = b.Set(o.key, o.val, nil)
			case opDelete:
				err = b.Delete(o.key, nil)
			case opDeleteRange:
				err = b.DeleteRange(o.key, o.val, nil)
			case opSingleDelete:
				err = b.SingleDelete(o.key, nil)
			}
			if err != nil {
				return c.failWith(err)
			}
		}
	}
	if b.Empty() {
		if !sync {
			return nil
		}
		_ = b.LogData(nil, nil) // a barrier: its fsync covers earlier unsynced batches
	}
	if seq := c.seq.Load(); seq > c.stamped {
		// Every batch that may carry a push records the highest sequence
		// number handed out, so numbers are never reused after a restart,
		// even once every envelope that had them is acked.
		c.stamped = seq
		if err := b.Set(metaSeqKey, binary.BigEndian.AppendUint64(nil, seq), nil); err != nil {
			return c.failWith(err)
		}
	}
	c.stats.batches.Add(1)
	c.stats.ops.Add(uint64(b.Count()))
	wo := pebble.NoSync
	if sync {
		wo = pebble.Sync // Pebble applies the memtable while the WAL syncs
		c.stats.syncs.Add(1)
	}
	if err := b.Commit(wo); err != nil {
		return c.failWith(err)
	}
	return nil
}

func (c *committer) failWith(err error) error {
	c.failOnce.Do(func() {
		c.err = fmt.Errorf("%w: writing to disk: %w", ErrFailed, err)
		close(c.fail)
		if c.onFail != nil {
			c.onFail(c.err)
		}
	})
	<-c.fail
	return c.err
}

// failure returns the sticky write error, if any.
func (c *committer) failure() error {
	select {
	case <-c.fail:
		return c.err
	default:
		return nil
	}
}

func (r *request) size() int {
	n := 16
	for _, o := range r.ops {
		n += len(o.key) + len(o.val) + 8
	}
	return n
}
