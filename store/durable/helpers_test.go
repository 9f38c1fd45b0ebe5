package durable_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/durable"
	"github.com/stretchr/testify/require"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// openStore opens a store in dir and closes it when the test ends (a
// second Close, after a test closed it itself, is a no-op).
func openStore(t testing.TB, dir string, opts ...durable.Option) *durable.Store {
	t.Helper()
	s, err := durable.Open(dir, append([]durable.Option{durable.WithLogger(quietLog), durable.WithMemTableSize(4 << 20)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func env(content string, p acl.Priority) *store.Envelope {
	return &store.Envelope{Msg: &acl.Message{Performative: acl.Inform, Content: []byte(content), Priority: p}, Receiver: "r"}
}

func drain(q store.Queue) []string {
	var out []string
	for e := q.Pop(); e != nil; e = q.Pop() {
		out = append(out, string(e.Msg.Content))
	}
	return out
}

// fullMessage sets every field of acl.Message.
func fullMessage() *acl.Message {
	return &acl.Message{
		ID: acl.MustParseMessageID("01934bcd-ef01-7abc-8def-0123456789ab"), Performative: acl.Propose,
		Sender: "a", Receivers: []acl.AgentID{"b", "topic:c"}, ReplyTo: "d", Content: []byte{0, 1, 2, 0xff},
		Language: "json", Encoding: "utf-8", Ontology: "o", Protocol: "fipa-contract-net",
		ConversationID: "c-1", ReplyWith: "r-1", InReplyTo: "r-0",
		ReplyBy:   time.Date(2026, 11, 22, 10, 0, 0, 123, time.UTC),
		CreatedAt: time.Date(2026, 11, 22, 9, 0, 0, 456, time.Local),
		Priority:  acl.PriorityLow, TraceContext: map[string]string{"traceparent": "00-x"},
		Params: map[string]string{"X-A": "1", "X-B": ""},
	}
}

func deadLetter(id string) store.DeadLetter {
	return store.DeadLetter{ID: id, Message: fullMessage(), Receiver: "b", Reason: "max attempts", Attempts: 3, LastError: "boom"}
}
