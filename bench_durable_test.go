package caxton_test

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store/durable"
)

// BenchmarkDurableSendAck measures durable delivery through the runtime:
// many host goroutines send to 16 native agents on a runtime with a durable store;
// each Send returns once the message is fsync'd (group commit), and each
// handled message is acknowledged (removed from disk). ns/op is per
// message, until the last acknowledgement is committed; msgs/s and the
// Send latency (p50, p99, mean) are reported too.
func BenchmarkDurableSendAck(b *testing.B) {
	for _, senders := range []int{64, 256, 1024} {
		b.Run(map[int]string{64: "senders=64", 256: "senders=256", 1024: "senders=1024"}[senders], func(b *testing.B) {
			st, err := durable.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			rt, err := caxton.New(caxton.WithStore(st))
			if err != nil {
				b.Fatal(err)
			}
			defer rt.Close(context.Background())
			const agents = 16
			var handled atomic.Int64
			done := make(chan struct{})
			total := int64(b.N)
			for i := 0; i < agents; i++ {
				name := acl.AgentID("sink-" + string(rune('a'+i)))
				if err := rt.Spawn(context.Background(), caxton.AgentSpec{Name: name, MailboxCapacity: 1 << 16,
					Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
						if handled.Add(1) == total {
							close(done)
						}
						return nil
					})}); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			lat := make([][]time.Duration, senders)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for s := 0; s < senders; s++ {
				wg.Add(1)
				go func(s int) {
					defer wg.Done()
					ctx := context.Background()
					for {
						n := next.Add(1)
						if n > total {
							return
						}
						to := acl.AgentID("sink-" + string(rune('a'+int(n%agents))))
						t0 := time.Now()
						if err := rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{to}, Content: []byte("payload-64-bytes-payload-64-bytes-payload-64-bytes-payload-64")}); err != nil {
							b.Error(err)
							return
						}
						lat[s] = append(lat[s], time.Since(t0))
					}
				}(s)
			}
			wg.Wait()
			<-done
			// Handled is not finished: each message leaves the disk when
			// its acknowledgement is committed, and that is part of the
			// work measured.
			for !allSettled(rt) {
				time.Sleep(50 * time.Microsecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			var all []time.Duration
			for _, l := range lat {
				all = append(all, l...)
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			if len(all) > 0 {
				var sum time.Duration
				for _, d := range all {
					sum += d
				}
				b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(sum.Microseconds())/float64(len(all)), "mean-µs")
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		})
	}
}

// allSettled reports whether no agent has a message queued or in flight:
// every handled message's acknowledgement has been committed.
func allSettled(rt *caxton.Runtime) bool {
	for _, a := range rt.Agents() {
		if a.QueueDepth > 0 || a.InFlight > 0 {
			return false
		}
	}
	return true
}
