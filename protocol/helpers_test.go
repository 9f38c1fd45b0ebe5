//go:build !wasip1

// The runtime (wasmtime, cgo) does not build for wasip1: tests against it
// run on the host only.

package protocol_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/require"
)

// env is a runtime on a fake clock with a Client on the inbox "initiator".
type env struct {
	t   *testing.T
	rt  *caxtontest.Runtime
	ib  *caxton.Inbox
	c   *protocol.Client
	ctx context.Context

	flusher *caxton.Inbox
}

func newEnv(t *testing.T, opts ...protocol.Option) *env {
	t.Helper()
	rt := caxtontest.NewRuntime(t)
	ib, err := rt.NewInbox("initiator")
	require.NoError(t, err)
	c := protocol.NewClient(ib, append([]protocol.Option{protocol.WithClock(rt.Clock)}, opts...)...)
	t.Cleanup(func() { _ = c.Close() })
	return &env{t: t, rt: rt, ib: ib, c: c, ctx: caxtontest.Context(t)}
}

// spawn makes r the handler of agent name.
func (e *env) spawn(name acl.AgentID, r protocol.Responder) {
	e.t.Helper()
	e.rt.MustSpawn(caxton.AgentSpec{Name: name, Handler: caxton.ProtocolHandler(r)})
}

// inbox makes another host inbox (a third party, or a scripted peer).
func (e *env) inbox(name acl.AgentID) *caxton.Inbox {
	e.t.Helper()
	ib, err := e.rt.NewInbox(name)
	require.NoError(e.t, err)
	return ib
}

// peer is a scripted agent: it records everything it receives and answers
// each message with what script returns, so tests can break protocols on
// purpose.
type peer struct {
	name acl.AgentID
	got  chan *acl.Message
}

func (e *env) peer(name acl.AgentID, script func(in *acl.Message) []*acl.Message) *peer {
	e.t.Helper()
	p := &peer{name: name, got: make(chan *acl.Message, 256)}
	e.rt.MustSpawn(caxton.AgentSpec{Name: name, Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		in := mc.Message()
		if script != nil {
			for _, out := range script(in) {
				if err := mc.Send(ctx, out); err != nil {
					return err
				}
			}
		}
		p.got <- in // after the answers: they are in the initiator's inbox now
		return nil
	})})
	return p
}

// next returns the next message the peer received.
func (p *peer) next(t *testing.T) *acl.Message {
	t.Helper()
	select {
	case m := <-p.got:
		return m
	case <-time.After(caxtontest.DefaultTimeout):
		t.Fatalf("peer %q received nothing", p.name)
		return nil
	}
}

// nextOf returns the next message of performative perf the peer received,
// skipping others.
func (p *peer) nextOf(t *testing.T, perf acl.Performative) *acl.Message {
	t.Helper()
	for {
		if m := p.next(t); m.Performative == perf {
			return m
		}
	}
}

// flush returns once the client has dispatched everything that reached
// its inbox before: it handles its inbox in order, so when a stray message
// sent now is answered, all earlier ones are in their conversations.
func (e *env) flush() {
	e.t.Helper()
	if e.flusher == nil {
		e.flusher = e.inbox("flusher")
	}
	m := acl.New(acl.Inform, e.ib.Name())
	m.ConversationID = "flush-" + acl.NewID().String()
	require.NoError(e.t, e.flusher.Send(e.ctx, m))
	caxtontest.AwaitInbox(e.t, e.flusher, acl.MatchConversationID(m.ConversationID))
}

// reply builds an answer to in, the way a responder would.
func reply(in *acl.Message, p acl.Performative, content string) *acl.Message {
	r := in.CreateReplyWith(p, acl.NewID().String())
	if content != "" {
		r.Content = []byte(content)
	}
	return r
}

// inform builds a subscription inform numbered seq ("" for none).
func inform(in *acl.Message, seq, content string) *acl.Message {
	r := reply(in, acl.Inform, content)
	if seq != "" {
		r.Params = map[string]string{protocol.SeqParam: seq}
	}
	return r
}

// msgs is a shorthand for a script's answer.
func msgs(ms ...*acl.Message) []*acl.Message { return ms }

// await receives the next message of ib.
func await(t *testing.T, ib *caxton.Inbox) *acl.Message {
	t.Helper()
	return caxtontest.AwaitInbox(t, ib, nil)
}

// result runs f in a goroutine and returns a channel with its outcome, for
// calls that block until the test advances the clock or cancels.
func result[T any](f func() T) <-chan T {
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	return ch
}

// recv waits for a value from ch.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(caxtontest.DefaultTimeout):
		t.Fatal("the call did not return")
		var zero T
		return zero
	}
}

// answerOf is the outcome of a one-shot initiator call.
type answerOf struct {
	ans *protocol.Answer
	err error
}

// fieldOf returns the field an *acl.FieldError names, or "".
func fieldOf(err error) string {
	var fe *acl.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// syncBuffer is a bytes.Buffer safe for a logger on another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
