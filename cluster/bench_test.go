package cluster

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/cluster/embedded"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The cross-node benchmarks run Caxton and raw nats.go side by side on the
// same embedded 3-server NATS cluster (R3, file storage, loopback), so
// their ratio is the cost of Caxton's layer: signing, encoding, the
// directory, the agent's mailbox and ack-after-handler.
//
//	go test -run '^$' -bench CrossNode -benchtime 20000x .   (in cluster/, a module of its own)

const benchSenders = 16 // concurrent senders: a sync publish waits one R3 round trip

var benchPayload = []byte(strings.Repeat("x", 128))

func benchNATS(b *testing.B) natsURLs {
	if urls := os.Getenv("CAXTON_BENCH_NATS"); urls != "" {
		return externalNATS(strings.Split(urls, ","))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := embedded.Start(ctx, 3)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	return c
}

// natsURLs is the NATS cluster a benchmark runs on: three embedded servers
// in this process, or (CAXTON_BENCH_NATS=url,url,url) servers of their own
// — a fresh cluster each run, since streams and buckets outlive it.
type natsURLs interface{ URLs() []string }

type externalNATS []string

func (e externalNATS) URLs() []string { return e }

func benchNodes(b *testing.B, c natsURLs, opts ...Option) (*caxton.Runtime, *caxton.Runtime) {
	rts := make([]*caxton.Runtime, 2)
	for i := range rts {
		n, err := New(nodeName(i), append([]Option{WithURLs(c.URLs()...)}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		rt, err := caxton.New(caxton.WithCluster(n))
		if err != nil {
			b.Fatal(err)
		}
		rts[i] = rt
		b.Cleanup(func() { _ = rt.Close(context.Background()) })
	}
	return rts[0], rts[1]
}

// split runs n sends over benchSenders goroutines.
func split(b *testing.B, n int, send func() error) {
	var wg sync.WaitGroup
	var failed atomic.Value
	per := (n + benchSenders - 1) / benchSenders
	for g := range benchSenders {
		k := min(per, n-g*per)
		if k <= 0 {
			break
		}
		wg.Go(func() {
			for range k {
				if err := send(); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

func waitCount(b *testing.B, c *atomic.Int64, n int64) {
	deadline := time.Now().Add(5 * time.Minute)
	for c.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d arrived", c.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkCrossNodeSend(b *testing.B) {
	for _, mode := range []struct {
		name  string
		async int
	}{{"sync", 0}, {"async", 4096}} {
		b.Run("caxton-"+mode.name, func(b *testing.B) {
			c := benchNATS(b)
			var opts []Option
			if mode.async > 0 {
				opts = append(opts, WithAsyncPublish(mode.async))
			}
			a, z := benchNodes(b, c, opts...)
			var got atomic.Int64
			ctx := context.Background()
			if err := z.Spawn(ctx, caxton.AgentSpec{Name: "sink", MailboxCapacity: 4096,
				Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { got.Add(1); return nil })}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			split(b, b.N, func() error {
				return a.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"sink"}, Content: benchPayload})
			})
			waitCount(b, &got, int64(b.N))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
		})
		b.Run("raw-jetstream-"+mode.name, func(b *testing.B) {
			pub, sub := rawClients(b)
			var jsOpts []jetstream.JetStreamOpt
			if mode.async > 0 {
				jsOpts = append(jsOpts, jetstream.WithPublishAsyncMaxPending(mode.async))
			}
			js, jsSub := rawJetStream(b, pub, jsOpts...), rawJetStream(b, sub)
			ctx := context.Background()
			s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.*"},
				Storage: jetstream.FileStorage, Retention: jetstream.WorkQueuePolicy, Replicas: 3})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "sink", FilterSubject: "raw.sink",
				AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: DefaultMaxAckPending, Replicas: 3}); err != nil {
				b.Fatal(err)
			}
			cons, err := jsSub.Consumer(ctx, "RAW", "sink")
			if err != nil {
				b.Fatal(err)
			}
			var got atomic.Int64
			cc, err := cons.Consume(func(m jetstream.Msg) { _ = m.Ack(); got.Add(1) }, jetstream.PullMaxMessages(512))
			if err != nil {
				b.Fatal(err)
			}
			defer cc.Stop()
			payload := make([]byte, 0, 256) // about a signed Caxton frame's size
			payload = append(append(payload, benchPayload...), benchPayload[:96]...)
			b.ResetTimer()
			split(b, b.N, func() error {
				for mode.async > 0 { // as Caxton does: a full window waits
					if _, err := js.PublishAsync("raw.sink", payload); !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
						return err
					}
					<-js.PublishAsyncComplete()
				}
				_, err := js.Publish(ctx, "raw.sink", payload)
				return err
			})
			waitCount(b, &got, int64(b.N))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
		})
	}
}

// latencies reports p50, p99 and mean of ds in microseconds.
func latencies(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(us(ds[len(ds)/2]), "p50-µs")
	b.ReportMetric(us(ds[len(ds)*99/100]), "p99-µs")
	b.ReportMetric(us(sum/time.Duration(len(ds))), "mean-µs")
}

// BenchmarkCrossNodeRequest: a Request from one node to an echo agent on
// another, one at a time. "caxton" sends the request through the agent's
// JetStream queue (the default); "caxton-direct" with WithDirectRequests
// over core NATS; "raw-nats" is nats.go's request/reply (the goal's
// yardstick), "raw-jetstream" the durable design's floor. Where the time
// goes: caxton-direct minus raw-nats is Caxton's layer (two signatures
// and verifications, see BenchmarkSealOpen, and the runtime's routing,
// mailbox and handler); caxton minus caxton-direct is the JetStream write,
// the consumer's delivery and the ack.
//
//	go test -run '^$' -bench 'CrossNodeRequest|SealOpen' -benchtime 5000x .   (in cluster/)
func BenchmarkCrossNodeRequest(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"caxton", nil}, {"caxton-direct", []Option{WithDirectRequests()}}} {
		b.Run(mode.name, func(b *testing.B) { benchRequest(b, mode.opts...) })
	}
	b.Run("raw-jetstream", benchRawJetStreamRequest)
	b.Run("raw-nats", benchRawNATSRequest)
}

// BenchmarkSealOpen is one side of a one-message frame's authenticity:
// encode and sign it (seal), then verify and decode it (open); a
// cross-node request and its reply pay it twice.
func BenchmarkSealOpen(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	m := acl.New(acl.Request, "echo")
	m.Sender, m.Content, m.ID, m.CreatedAt, m.ReplyWith = "host", benchPayload, acl.NewID(), time.Now(), "r1"
	keyOf := func(string, string) (ed25519.PublicKey, error) { return pub, nil }
	b.ReportAllocs()
	for b.Loop() {
		msg, err := seal("caxton.caxton.node.n1", "n0", key, []acl.AgentID{"echo"}, []*acl.Message{m}, DefaultMaxBytes)
		if err != nil {
			b.Fatal(err)
		}
		if _, rej, err := open(msg.Subject, msg.Header, msg.Data, DefaultMaxBytes, keyOf); err != nil || rej != nil {
			b.Fatal(err, rej)
		}
	}
}

func benchRequest(b *testing.B, opts ...Option) {
	a, z := benchNodes(b, benchNATS(b), opts...)
	ctx := context.Background()
	if err := z.Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(echo)}); err != nil {
		b.Fatal(err)
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := a.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}, Content: benchPayload}); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	latencies(b, ds)
}

// benchRawJetStreamRequest is the floor of Caxton's durable design: the
// request through an R3 JetStream queue, acked after the answer, the
// answer over core NATS.
func benchRawJetStreamRequest(b *testing.B) {
	req, resp := rawClients(b)
	ctx := context.Background()
	js := rawJetStream(b, req)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.*"},
		Storage: jetstream.FileStorage, Retention: jetstream.WorkQueuePolicy, Replicas: 3})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "echo", FilterSubject: "raw.echo",
		AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: DefaultMaxAckPending, Replicas: 3}); err != nil {
		b.Fatal(err)
	}
	jsResp := rawJetStream(b, resp)
	cons, err := jsResp.Consumer(ctx, "RAW", "echo")
	if err != nil {
		b.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = resp.Publish(m.Headers().Get("Reply-Inbox"), fmt.Appendf(nil, "echo: %s", m.Data()))
		_ = m.Ack()
	}, jetstream.PullMaxMessages(512))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()
	inbox := nats.NewInbox()
	answers, err := req.SubscribeSync(inbox)
	if err != nil {
		b.Fatal(err)
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		m := nats.NewMsg("raw.echo")
		m.Data = benchPayload
		m.Header.Set("Reply-Inbox", inbox)
		if _, err := js.PublishMsg(ctx, m); err != nil {
			b.Fatal(err)
		}
		if _, err := answers.NextMsg(5 * time.Second); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	latencies(b, ds)
}

func benchRawNATSRequest(b *testing.B) {
	req, resp := rawClients(b)
	if _, err := resp.Subscribe("echo", func(m *nats.Msg) { _ = m.Respond(fmt.Appendf(nil, "echo: %s", m.Data)) }); err != nil {
		b.Fatal(err)
	}
	if err := resp.Flush(); err != nil {
		b.Fatal(err)
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := req.Request("echo", benchPayload, 5*time.Second); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	latencies(b, ds)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// rawClients connects two plain NATS clients (one sending, one receiving)
// to the benchmarks' cluster, closed when b ends: the raw baselines.
func rawClients(b *testing.B) (a, c *nats.Conn) {
	b.Helper()
	url := strings.Join(benchNATS(b).URLs(), ",")
	conn := func() *nats.Conn {
		nc, err := nats.Connect(url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(nc.Close)
		return nc
	}
	return conn(), conn()
}

// rawJetStream is nc's JetStream handle, or the benchmark's end.
func rawJetStream(b *testing.B, nc *nats.Conn, opts ...jetstream.JetStreamOpt) jetstream.JetStream {
	b.Helper()
	js, err := jetstream.New(nc, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return js
}
