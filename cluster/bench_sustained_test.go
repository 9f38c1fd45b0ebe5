package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkCluster3NodeSustained is the architecture's 3-node figure:
// three nodes on a 3-server R3 NATS cluster (file storage, in this
// process), each sending at a fixed offered rate to agents on the other
// two for a fixed time; it reports what arrived, what was lost, and the
// send-to-handler latency. "caxton" runs three runtimes (async publish,
// window 4096) with CAXTON_BENCH_AGENTS agents each; "raw-jetstream" runs
// the same traffic through nats.go alone (async publish to one subject
// per agent of a work-queue stream, one durable consumer per agent acking
// each message: Caxton's design before consumers per node), and
// "raw-jetstream-per-node" the same with one durable consumer per node
// filtered to its agents' subjects (Caxton's design now), the peers for
// the ratio. One iteration each:
//
//	CAXTON_BENCH_RATE=50000 CAXTON_BENCH_SECONDS=60 go test -run '^$' \
//	  -bench Cluster3NodeSustained -benchtime 1x -timeout 30m .   (in cluster/)
func BenchmarkCluster3NodeSustained(b *testing.B) {
	rate, secs := envInt("CAXTON_BENCH_RATE", 1000), envInt("CAXTON_BENCH_SECONDS", 10)
	agents := envInt("CAXTON_BENCH_AGENTS", 1)
	b.Run("caxton", func(b *testing.B) { sustainCaxton(b, rate, secs, agents) })
	b.Run("raw-jetstream", func(b *testing.B) { sustainRaw(b, rate, secs, agents, false) })
	b.Run("raw-jetstream-per-node", func(b *testing.B) { sustainRaw(b, rate, secs, agents, true) })
}

const sustainNodes = 3

// arrivals records what arrived: distinct ids and latencies.
type arrivals struct {
	mu   sync.Mutex
	seen map[uint64]bool
	lat  []time.Duration
}

func (a *arrivals) add(id uint64, d time.Duration) {
	a.mu.Lock()
	a.seen[id] = true
	a.lat = append(a.lat, d)
	a.mu.Unlock()
}

func (a *arrivals) distinct() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen)
}

// sustain offers rate msg/s for secs seconds from sustainNodes senders
// (send(node, k) sends node's k-th message, to another node's agent),
// waits for the arrivals to drain, and reports.
func sustain(b *testing.B, rate, secs int, got *arrivals, send func(node, k int) error) {
	b.ResetTimer()
	var sent atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(time.Duration(secs) * time.Second)
	for i := range sustainNodes {
		wg.Go(func() {
			t := time.NewTicker(10 * time.Millisecond) // every 10 ms, what the rate owes since the start
			defer t.Stop()
			k := 0
			for now := range t.C {
				if now.After(end) {
					return
				}
				due := int(float64(rate) / sustainNodes * now.Sub(start).Seconds())
				for k < due {
					if err := send(i, k); err != nil {
						b.Errorf("send: %v", err)
						return
					}
					k++
					sent.Add(1)
				}
			}
		})
	}
	wg.Wait()
	sendEnd := time.Now()
	drain := time.Now().Add(2 * time.Minute)
	for int64(got.distinct()) < sent.Load() && time.Now().Before(drain) {
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	got.mu.Lock()
	defer got.mu.Unlock()
	b.ReportMetric(float64(sent.Load())/float64(secs), "offered-msg/s")
	b.ReportMetric(float64(len(got.seen))/b.Elapsed().Seconds(), "delivered-msg/s")
	b.ReportMetric(float64(sent.Load()-int64(len(got.seen))), "lost")
	b.ReportMetric(time.Since(sendEnd).Seconds(), "drain-s")
	if len(got.lat) > 0 {
		latencies(b, got.lat)
	}
}

// msgID packs a sender node and its sequence number.
func msgID(node, k int) uint64 { return uint64(node)<<48 | uint64(k) }

// target is the agent node's k-th message goes to: on one of the two
// other nodes, spread over their agents.
func target(node, k, agents int) (int, int) {
	return (node + 1 + k%2) % sustainNodes, (k / 2) % agents
}

func sustainCaxton(b *testing.B, rate, secs, agents int) {
	c := benchNATS(b)
	ctx := context.Background()
	got := &arrivals{seen: map[uint64]bool{}}
	rts := make([]*caxton.Runtime, sustainNodes)
	for i := range rts {
		n, err := New(nodeName(i), WithURLs(c.URLs()...), WithAsyncPublish(4096))
		if err != nil {
			b.Fatal(err)
		}
		rt, err := caxton.New(caxton.WithCluster(n))
		if err != nil {
			b.Fatal(err)
		}
		rts[i] = rt
		b.Cleanup(func() { _ = rt.Close(context.Background()) })
		for a := range agents {
			if err := rt.Spawn(ctx, caxton.AgentSpec{Name: acl.AgentID(fmt.Sprintf("sink-%d-%d", i, a)), MailboxCapacity: 8192,
				Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
					m := mc.Message()
					got.add(binary.LittleEndian.Uint64(m.Content), time.Since(m.CreatedAt))
					return nil
				})}); err != nil {
				b.Fatal(err)
			}
		}
	}
	sustain(b, rate, secs, got, func(node, k int) error {
		to, a := target(node, k, agents)
		return rts[node].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{acl.AgentID(fmt.Sprintf("sink-%d-%d", to, a))},
			Content: binary.LittleEndian.AppendUint64(nil, msgID(node, k))})
	})
}

func sustainRaw(b *testing.B, rate, secs, agents int, perNode bool) {
	c := benchNATS(b)
	ctx := context.Background()
	got := &arrivals{seen: map[uint64]bool{}}
	url := strings.Join(c.URLs(), ",")
	jss := make([]jetstream.JetStream, sustainNodes)
	for i := range jss {
		nc, err := nats.Connect(url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(nc.Close)
		if jss[i], err = jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096)); err != nil {
			b.Fatal(err)
		}
	}
	s, err := jss[0].CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"},
		Storage: jetstream.FileStorage, Retention: jetstream.WorkQueuePolicy, Replicas: 3})
	if err != nil {
		b.Fatal(err)
	}
	consume := func(i int, name, filter string) {
		if _, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: name, FilterSubject: filter,
			AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: DefaultMaxAckPending, Replicas: 3}); err != nil {
			b.Fatal(err)
		}
		cons, err := jss[i].Consumer(ctx, "RAW", name)
		if err != nil {
			b.Fatal(err)
		}
		cc, err := cons.Consume(func(m jetstream.Msg) {
			d := m.Data()
			got.add(binary.LittleEndian.Uint64(d), time.Since(time.Unix(0, int64(binary.LittleEndian.Uint64(d[8:])))))
			_ = m.Ack()
		}, jetstream.PullMaxMessages(512))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(cc.Stop)
	}
	subject := func(node, a int) string { return fmt.Sprintf("raw.sink-%d-%d", node, a) }
	for i := range sustainNodes {
		if perNode {
			consume(i, fmt.Sprint("node-", i), fmt.Sprintf("raw.%d.*", i))
			continue
		}
		for a := range agents {
			consume(i, fmt.Sprintf("sink-%d-%d", i, a), subject(i, a))
		}
	}
	if perNode {
		subject = func(node, a int) string { return fmt.Sprintf("raw.%d.sink-%d", node, a) }
	}
	payload := make([]byte, 16, 192) // about a signed Caxton message's size on the wire
	payload = payload[:cap(payload)]
	sustain(b, rate, secs, got, func(node, k int) error {
		to, a := target(node, k, agents)
		p := binary.LittleEndian.AppendUint64(nil, msgID(node, k))
		p = binary.LittleEndian.AppendUint64(p, uint64(time.Now().UnixNano()))
		p = append(p, payload[16:]...)
		for {
			_, err := jss[node].PublishAsync(subject(to, a), p)
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				return err
			}
			<-jss[node].PublishAsyncComplete() // as Caxton does: a full window waits
		}
	})
}
