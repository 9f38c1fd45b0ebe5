package durable_test

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/durable"
)

// BenchmarkStorePushAck is the workload above through the store itself
// (caxton's store/durable: Push waits for its group commit's fsync, Ack
// does not), so the JetStream baselines here run beside the real store in
// the same run:
//
//	cd bench/durable && go test -run '^$' -bench 'Store|JetStream' -benchtime 2s .
//
// Each of the 256 pushers takes a queue of its own from a pool for one
// push, pop and ack, as an agent's mailbox is used by one worker at a time.
func BenchmarkStorePushAck(b *testing.B) {
	s, err := durable.Open(b.TempDir(), durable.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pool := make(chan *durable.Queue, concurrency)
	for i := range concurrency {
		q, err := s.Queue(fmt.Sprintf("agent-%d#0", i))
		if err != nil {
			b.Fatal(err)
		}
		pool <- q
	}
	m := &acl.Message{ID: acl.NewID(), Performative: acl.Request, Sender: "front-desk", Receivers: []acl.AgentID{"agent"},
		Language: "json", Content: value, CreatedAt: time.Now()}
	runPushAck(b, func(uint64) error {
		q := <-pool
		defer func() { pool <- q }()
		if err := q.Push(&store.Envelope{Msg: m, Receiver: m.Receivers[0], Enqueued: m.CreatedAt}); err != nil {
			return err
		}
		return q.Ack(q.Pop())
	})
}
