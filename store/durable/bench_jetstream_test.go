//go:build jetstream

package durable_test

// The JetStream baseline of bench_test.go's benchmarks. The build tag keeps
// the NATS server (a large compile) out of go test ./...:
//
//	go test -tags jetstream -run '^$' -bench . -benchtime 2s ./store/durable/

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkJetStreamPushAck is the same work for an embedded NATS server:
// file storage, a work-queue stream (an acked message is deleted), the
// same 256 publishers each waiting for its PubAck, and one pull consumer
// acking every message; msgs/s counts messages published and acked.
// sync=always makes the server fsync before a PubAck, as our Push does;
// sync=default is NATS's default (fsync every two minutes), which does not
// survive a power loss, shown for scale. The message is encoded once (acl
// JSON) outside the loop, so JetStream is not charged for encoding.
func BenchmarkJetStreamPushAck(b *testing.B) {
	for _, syncAlways := range []bool{true, false} {
		name := map[bool]string{true: "sync=always", false: "sync=default"}[syncAlways]
		b.Run(name, func(b *testing.B) { benchJetStream(b, syncAlways) })
	}
}

func benchJetStream(b *testing.B, syncAlways bool) {
	opts := &server.Options{JetStream: true, StoreDir: b.TempDir(), DontListen: true, NoLog: true, NoSigs: true,
		SyncAlways: syncAlways}
	ns, err := server.NewServer(opts)
	if err != nil {
		b.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "Q", Subjects: []string{"q.>"},
		Storage: jetstream.FileStorage, Retention: jetstream.WorkQueuePolicy})
	if err != nil {
		b.Fatal(err)
	}
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "w", AckPolicy: jetstream.AckExplicitPolicy,
		MaxAckPending: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	var acked atomic.Int64
	allAcked := make(chan struct{})
	var want atomic.Int64
	want.Store(-1)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if m.Ack() == nil && acked.Add(1) == want.Load() {
			close(allAcked)
		}
	}, jetstream.PullMaxMessages(4096))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()
	payload, err := acl.Marshal(benchMessage("agent"))
	if err != nil {
		b.Fatal(err)
	}
	want.Store(int64(b.N))
	lat, _ := parallel(b, 256, func(i int) func() error {
		subject := fmt.Sprint("q.agent-", i)
		return func() error {
			_, err := js.Publish(ctx, subject, payload)
			return err
		}
	})
	select { // the clock runs until the last message is acked, not just published
	case <-allAcked:
	case <-time.After(time.Minute):
		b.Fatalf("consumer acked %d of %d", acked.Load(), b.N)
	}
	b.StopTimer()
	lat.report(b, b.N, b.Elapsed())
}
