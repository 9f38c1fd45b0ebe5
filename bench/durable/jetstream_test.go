package durable_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// benchJetStream runs the push+ack workload against an embedded NATS
// server: file storage, a work-queue stream (an acked message is deleted),
// publishers waiting for the PubAck, one pull consumer acking every
// message. syncAlways makes the server fsync before it acks a publish (its
// default is an fsync every two minutes, which is not durable per message).
func benchJetStream(b *testing.B, syncAlways bool) {
	opts := &server.Options{JetStream: true, StoreDir: b.TempDir(), DontListen: true, NoLog: true, NoSigs: true, SyncAlways: syncAlways}
	ns, err := server.NewServer(opts)
	if err != nil {
		b.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats server not ready")
	}
	defer ns.Shutdown()
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "Q", Subjects: []string{"q"},
		Storage: jetstream.FileStorage, Retention: jetstream.WorkQueuePolicy})
	if err != nil {
		b.Fatal(err)
	}
	cons, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "w", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { _ = m.Ack() }, jetstream.PullMaxMessages(4096))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()
	runPushAck(b, func(uint64) error {
		_, err := js.Publish(ctx, "q", value)
		if errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return err
	})
}

func BenchmarkJetStreamSyncAlways(b *testing.B)  { benchJetStream(b, true) }
func BenchmarkJetStreamDefaultSync(b *testing.B) { benchJetStream(b, false) }
