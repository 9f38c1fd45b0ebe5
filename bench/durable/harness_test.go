package durable_test

import (
	"encoding/binary"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// concurrency is the number of pushers in every benchmark here (and in
// store/durable's BenchmarkDurablePushAck): 256 goroutines on 2 cores, the
// way many agents sending at once would share one store.
const concurrency = 256

// value stands in for one encoded envelope: about the size of a small
// ACL message with a JSON content, ids, a conversation and a trace context.
var value = func() []byte {
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}()

// engine applies one group commit: puts and deletes in one atomic,
// fsync'd write.
type engine interface {
	apply(puts [][2][]byte, dels [][]byte) error
	close() error
}

type req struct {
	key  []byte
	del  bool
	done chan error // nil for deletes: an ack does not wait for the disk
}

// committer is the group commit every engine gets: one goroutine takes
// whatever requests are waiting, writes them in one batch with one fsync,
// then wakes the pushers.
type committer struct {
	reqs    chan *req
	wg      sync.WaitGroup
	batches atomic.Int64
	ops     atomic.Int64
}

func newCommitter(e engine) *committer {
	c := &committer{reqs: make(chan *req, 8192)}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		var puts [][2][]byte
		var dels [][]byte
		var waiters []chan error
		for r := range c.reqs {
			// As store/durable does: let the pushers woken by the last
			// commit submit again before gathering the next batch.
			for i, n := 0, len(c.reqs); i < 64; i++ {
				runtime.Gosched()
				m := len(c.reqs)
				if m == n {
					break
				}
				n = m
			}
			puts, dels, waiters = puts[:0], dels[:0], waiters[:0]
			add := func(r *req) {
				if r.del {
					dels = append(dels, r.key)
				} else {
					puts = append(puts, [2][]byte{r.key, value})
					waiters = append(waiters, r.done)
				}
			}
			add(r)
		more:
			for len(puts)+len(dels) < 8192 {
				select {
				case r, ok := <-c.reqs:
					if !ok {
						break more
					}
					add(r)
				default:
					break more
				}
			}
			err := e.apply(puts, dels)
			c.batches.Add(1)
			c.ops.Add(int64(len(puts) + len(dels)))
			for _, w := range waiters {
				w <- err
			}
		}
	}()
	return c
}

func (c *committer) stop() { close(c.reqs); c.wg.Wait() }

// pushAck is the measured operation: a durable push that waits for the
// disk, then the consumer's ack that does not.
type pushAck func(seq uint64) error

// runPushAck runs op from `concurrency` goroutines and reports msgs/s and
// the p50/p99/mean latency of one push+ack.
func runPushAck(b *testing.B, op pushAck) {
	b.Helper()
	var seq atomic.Uint64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(max(1, concurrency/testingProcs()))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t := time.Now()
			if err := op(seq.Add(1)); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	report(b, lat, elapsed)
}

func report(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	b.ReportMetric(float64((sum / time.Duration(len(lat))).Microseconds()), "mean-µs")
}

func key(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
