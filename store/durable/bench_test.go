package durable_test

// Durable send+ack. Its JetStream baseline — the store and an embedded
// NATS server doing the same work in the same run — is in the nested module
// bench/durable (BenchmarkStorePushAck beside BenchmarkJetStream*), so the
// NATS server is not a dependency of the caxton module:
//
//	go test -run '^$' -bench . -benchtime 2s ./store/durable/
//	cd bench/durable && go test -run '^$' -bench 'Store|JetStream' -benchtime 2s .
//
// Each benchmark reports msgs/s (pushed and acknowledged), and the p50/p99
// latency of one push+ack as its caller sees it.

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/durable"
)

// benchMessage is a typical small message: ids, a conversation, a trace
// context and a JSON content of about 120 bytes.
func benchMessage(receiver acl.AgentID) *acl.Message {
	return &acl.Message{
		ID: acl.MustParseMessageID("01934bcd-ef01-7abc-8def-0123456789ab"), Performative: acl.Request,
		Sender: "front-desk", Receivers: []acl.AgentID{receiver}, Language: "json", Protocol: "fipa-request",
		ConversationID: "c-0193-4bcd-ef01", ReplyWith: "r-42", CreatedAt: time.Now(),
		Content:      []byte(`{"order":"A-1029","items":[{"sku":"X-77","qty":2},{"sku":"Y-12","qty":1}],"customer":"c-4411","total":129.90}`),
		TraceContext: map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	}
}

// latencies collects per-operation latencies from parallel goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(local []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, local...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B, msgs int, elapsed time.Duration) {
	b.ReportMetric(float64(msgs)/elapsed.Seconds(), "msgs/s")
	if len(l.all) == 0 {
		return
	}
	slices.Sort(l.all)
	b.ReportMetric(float64(l.all[len(l.all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(l.all[len(l.all)*99/100].Microseconds()), "p99-µs")
}

// parallel runs b.N operations from `pushers` goroutines (not a multiple of
// GOMAXPROCS: exactly that many), giving each its own state from setup.
func parallel(b *testing.B, pushers int, setup func(i int) func() error) (*latencies, time.Duration) {
	lat := &latencies{}
	var next atomic.Int64
	var wg sync.WaitGroup
	ops := make([]func() error, pushers)
	for i := range ops {
		ops[i] = setup(i)
	}
	b.ResetTimer()
	start := time.Now()
	for _, op := range ops {
		wg.Go(func() {
			local := make([]time.Duration, 0, b.N/pushers+1)
			for next.Add(1) <= int64(b.N) {
				t := time.Now()
				if err := op(); err != nil {
					b.Error(err)
					break
				}
				local = append(local, time.Since(t))
			}
			lat.add(local)
		})
	}
	wg.Wait()
	return lat, time.Since(start)
}

// BenchmarkDurablePushAck: each pusher is one agent's mailbox — its own
// queue, one call at a time — pushing a message (returning once it is
// fsync'd), popping it and acking it. Pushes from all queues share fsyncs.
func BenchmarkDurablePushAck(b *testing.B) {
	for _, bc := range []struct {
		name    string
		pushers int
		opts    []durable.Option
	}{
		{"pushers=256", 256, nil},
		{"pushers=256,history", 256, []durable.Option{durable.WithHistory(durable.Retention{MaxEntries: 100_000})}},
		{"pushers=1", 1, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := durable.Open(b.TempDir(), append([]durable.Option{durable.WithLogger(quietLog)}, bc.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			lat, elapsed := parallel(b, bc.pushers, func(i int) func() error {
				q, err := s.Queue(fmt.Sprintf("agent-%d#0", i))
				if err != nil {
					b.Fatal(err)
				}
				m := benchMessage(acl.AgentID(fmt.Sprint("agent-", i)))
				return func() error {
					if err := q.Push(&store.Envelope{Msg: m, Receiver: m.Receivers[0], Enqueued: m.CreatedAt}); err != nil {
						return err
					}
					return q.Ack(q.Pop())
				}
			})
			b.StopTimer()
			lat.report(b, b.N, elapsed)
			if st := s.Stats(); st.Fsyncs > 0 {
				b.ReportMetric(float64(b.N)/float64(st.Fsyncs), "msgs/fsync")
			}
		})
	}
}

// BenchmarkDurableSharedQueues: 256 senders over 16 queues, each queue
// serialised by a lock as the runtime's mailbox does. With Push the lock is
// held for the fsync, so a queue takes one push per commit; with PushAsync
// (the proposed mailbox wiring) the lock covers only the queueing.
func BenchmarkDurableSharedQueues(b *testing.B) {
	for _, async := range []bool{false, true} {
		b.Run(map[bool]string{false: "Push-under-lock", true: "PushAsync"}[async], func(b *testing.B) {
			s, err := durable.Open(b.TempDir(), durable.WithLogger(quietLog))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			type box struct {
				mu sync.Mutex
				q  *durable.Queue
			}
			boxes := make([]*box, 16)
			for i := range boxes {
				q, err := s.Queue(fmt.Sprintf("agent-%d#0", i))
				if err != nil {
					b.Fatal(err)
				}
				boxes[i] = &box{q: q}
			}
			lat, elapsed := parallel(b, 256, func(i int) func() error {
				bx := boxes[i%len(boxes)]
				m := benchMessage(acl.AgentID(fmt.Sprint("agent-", i%len(boxes))))
				return func() error {
					e := &store.Envelope{Msg: m, Receiver: m.Receivers[0]}
					bx.mu.Lock()
					if !async {
						err := bx.q.Push(e)
						bx.mu.Unlock()
						if err != nil {
							return err
						}
					} else {
						wait, err := bx.q.PushAsync(e)
						bx.mu.Unlock()
						if err != nil {
							return err
						}
						if err := wait(); err != nil {
							return err
						}
					}
					bx.mu.Lock()
					defer bx.mu.Unlock()
					return bx.q.Ack(bx.q.Pop())
				}
			})
			b.StopTimer()
			lat.report(b, b.N, elapsed)
		})
	}
}
