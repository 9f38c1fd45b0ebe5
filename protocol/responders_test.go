package protocol_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errNope is a non-protocol error for callbacks.
var errNope = errors.New("nope")

// fakeConn records what a responder sends; no runtime involved.
type fakeConn struct {
	mu   sync.Mutex
	sent []*acl.Message
	fail func(m *acl.Message) error // nil: every send succeeds
}

func (f *fakeConn) Send(ctx context.Context, m *acl.Message) error {
	if f.fail != nil {
		if err := f.fail(m); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m)
	return nil
}

func (f *fakeConn) Now() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// acts summarises what was sent as "performative:content".
func (f *fakeConn) acts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []string{}
	for _, m := range f.sent {
		out = append(out, m.Performative.String()+":"+string(m.Content))
	}
	return out
}

func (f *fakeConn) take() []*acl.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sent
	f.sent = nil
	return out
}

var replyWiths atomic.Int64

// incoming builds a message as a responder receives it.
func incoming(p acl.Performative, protocolName, content string) *acl.Message {
	n := replyWiths.Add(1)
	return &acl.Message{
		ID: acl.NewID(), Performative: p, Sender: "initiator", Receivers: []acl.AgentID{"responder"},
		Protocol: protocolName, ConversationID: "conv-1", ReplyWith: fmt.Sprint("rw-", n), Content: []byte(content),
	}
}

// assertAnswers checks that every sent message answers in.
func assertAnswers(t *testing.T, in *acl.Message, sent []*acl.Message) {
	t.Helper()
	to := in.ReplyTo
	if to == "" {
		to = in.Sender
	}
	for _, m := range sent {
		assert.Equal(t, in.ConversationID, m.ConversationID)
		assert.Equal(t, in.ReplyWith, m.InReplyTo)
		assert.Equal(t, in.Protocol, m.Protocol)
		assert.Equal(t, []acl.AgentID{to}, m.Receivers)
	}
}

func TestRequestResponderUnit(t *testing.T) {
	t.Parallel()
	ok := func(out string) func(context.Context, *acl.Message) ([]byte, error) {
		return func(context.Context, *acl.Message) ([]byte, error) { return []byte(out), nil }
	}
	fail := func(err error) func(context.Context, *acl.Message) ([]byte, error) {
		return func(context.Context, *acl.Message) ([]byte, error) { return nil, err }
	}
	refuse := func(context.Context, *acl.Message) error { return protocol.Refuse("no") }
	tests := []struct {
		name string
		r    protocol.RequestResponder
		in   acl.Performative
		want []string
	}{
		{"done", protocol.RequestResponder{Do: fail(nil)}, acl.Request, []string{"inform:"}},
		{"result", protocol.RequestResponder{Do: ok("r")}, acl.Request, []string{"inform:r"}},
		{"agree then result", protocol.RequestResponder{Agree: true, Do: ok("r")}, acl.Request, []string{"agree:", "inform:r"}},
		{"check refuses before any agree", protocol.RequestResponder{Agree: true, Check: refuse, Do: ok("r")}, acl.Request, []string{"refuse:no"}},
		{"refusal after agree is failure", protocol.RequestResponder{Agree: true, Do: fail(protocol.Refuse("no"))}, acl.Request, []string{"agree:", "failure:refused: no"}},
		{"misunderstanding after agree is failure", protocol.RequestResponder{Agree: true, Do: fail(protocol.NotUnderstood("eh"))}, acl.Request, []string{"agree:", "failure:not understood: eh"}},
		{"wrapped refusal", protocol.RequestResponder{Do: fail(fmt.Errorf("stock: %w", protocol.Refuse("none left")))}, acl.Request, []string{"refuse:none left"}},
		{"failure", protocol.RequestResponder{Do: fail(errNope)}, acl.Request, []string{"failure:nope"}},
		{"not a request", protocol.RequestResponder{Do: ok("r")}, acl.Inform, []string{"not-understood:inform does not start or continue a fipa-request conversation here"}},
		{"not-understood is never answered", protocol.RequestResponder{Do: ok("r")}, acl.NotUnderstood, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &fakeConn{}
			in := incoming(tc.in, protocol.FIPARequest, "do it")
			require.NoError(t, tc.r.Respond(context.Background(), in, c))
			assert.Equal(t, tc.want, c.acts())
			assertAnswers(t, in, c.sent)
		})
	}
}

func TestRequestResponderReturnsWhatTheRuntimeShouldRetry(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &fakeConn{}
	r := protocol.RequestResponder{Agree: true, Do: func(ctx context.Context, _ *acl.Message) ([]byte, error) { return nil, ctx.Err() }}
	err := r.Respond(ctx, incoming(acl.Request, protocol.FIPARequest, ""), c)
	assert.ErrorIs(t, err, context.Canceled, "an interrupted Do is retried, not reported as failure")
	assert.Equal(t, []string{"agree:"}, c.acts())

	broken := &fakeConn{fail: func(*acl.Message) error { return errNope }}
	err = protocol.RequestResponder{Do: func(context.Context, *acl.Message) ([]byte, error) { return nil, nil }}.
		Respond(context.Background(), incoming(acl.Request, protocol.FIPARequest, ""), broken)
	assert.ErrorIs(t, err, errNope, "a send error is the handler's error")
}

func TestRequestResponderAnswersReplyTo(t *testing.T) {
	t.Parallel()
	c := &fakeConn{}
	in := incoming(acl.Request, protocol.FIPARequest, "")
	in.ReplyTo = "accounts"
	require.NoError(t, protocol.RequestResponder{Agree: true, Do: func(context.Context, *acl.Message) ([]byte, error) { return nil, nil }}.Respond(context.Background(), in, c))
	require.Len(t, c.sent, 2)
	assertAnswers(t, in, c.sent)
}

func TestQueryResponderUnit(t *testing.T) {
	t.Parallel()
	full := protocol.QueryResponder{
		If: func(_ context.Context, m *acl.Message) (bool, error) { return string(m.Content) == "yes?", nil },
		Ref: func(_ context.Context, m *acl.Message) ([]byte, error) {
			return []byte("value of " + string(m.Content)), nil
		},
	}
	tests := []struct {
		name    string
		r       protocol.QueryResponder
		in      acl.Performative
		content string
		want    []string
	}{
		{"if true", full, acl.QueryIf, "yes?", []string{"inform:true"}},
		{"if false", full, acl.QueryIf, "no?", []string{"inform:false"}},
		{"ref", full, acl.QueryRef, "x", []string{"inform:value of x"}},
		{"no If", protocol.QueryResponder{}, acl.QueryIf, "", []string{"not-understood:this agent answers no query-if"}},
		{"no Ref", protocol.QueryResponder{}, acl.QueryRef, "", []string{"not-understood:this agent answers no query-ref"}},
		{"if refuses", protocol.QueryResponder{If: func(context.Context, *acl.Message) (bool, error) { return false, protocol.Refuse("secret") }},
			acl.QueryIf, "", []string{"refuse:secret"}},
		{"ref fails", protocol.QueryResponder{Ref: func(context.Context, *acl.Message) ([]byte, error) { return nil, errNope }},
			acl.QueryRef, "", []string{"failure:nope"}},
		{"other act", full, acl.Request, "", []string{"not-understood:request does not start or continue a fipa-query conversation here"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &fakeConn{}
			in := incoming(tc.in, protocol.FIPAQuery, tc.content)
			require.NoError(t, tc.r.Respond(context.Background(), in, c))
			assert.Equal(t, tc.want, c.acts())
			assertAnswers(t, in, c.sent)
		})
	}
}

func TestProposeResponderUnit(t *testing.T) {
	t.Parallel()
	decide := func(err error) func(context.Context, *acl.Message) error {
		return func(context.Context, *acl.Message) error { return err }
	}
	tests := []struct {
		name    string
		r       protocol.ProposeResponder
		in      acl.Performative
		want    []string
		wantErr error
	}{
		{"accept by default", protocol.ProposeResponder{}, acl.Propose, []string{"accept-proposal:lunch"}, nil},
		{"reject", protocol.ProposeResponder{Decide: decide(protocol.Refuse("busy"))}, acl.Propose, []string{"reject-proposal:busy"}, nil},
		{"not understood", protocol.ProposeResponder{Decide: decide(protocol.NotUnderstood("eh"))}, acl.Propose, []string{"not-understood:eh"}, nil},
		{"other error is retried", protocol.ProposeResponder{Decide: decide(errNope)}, acl.Propose, []string{}, errNope},
		{"other act", protocol.ProposeResponder{}, acl.CFP, []string{"not-understood:cfp does not start or continue a fipa-propose conversation here"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &fakeConn{}
			in := incoming(tc.in, protocol.FIPAPropose, "lunch")
			err := tc.r.Respond(context.Background(), in, c)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tc.want, c.acts())
			assertAnswers(t, in, c.sent)
		})
	}
}

func TestSubscribeResponderUnit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sr := &protocol.SubscribeResponder{}
	c := &fakeConn{}
	respond := func(m *acl.Message) []string {
		t.Helper()
		require.NoError(t, sr.Respond(ctx, m, c))
		sent := c.take()
		assertAnswers(t, m, sent)
		out := []string{}
		for _, s := range sent {
			out = append(out, s.Performative.String()+":"+string(s.Content))
		}
		return out
	}
	sub := func(from acl.AgentID, conv string) *acl.Message {
		m := incoming(acl.Subscribe, protocol.FIPASubscribe, "prices")
		m.Sender, m.ConversationID = from, conv
		return m
	}
	a := sub("alice", "a-1")
	assert.Equal(t, []string{"agree:"}, respond(a))
	assert.Empty(t, respond(a), "a redelivered subscribe is ignored")
	assert.Equal(t, []string{`refuse:conversation "a-1" already has a subscription`}, respond(sub("alice", "a-1")))
	assert.Equal(t, []string{"refuse:a subscription needs a conversation-id"}, respond(sub("alice", "")))
	b := sub("bob", "b-1")
	b.ReplyTo = "bobs-inbox"
	assert.Equal(t, []string{"agree:"}, respond(b))
	assert.Equal(t, 2, sr.Subscribers())

	// Numbers are per subscriber and used up only by a successful send.
	var failBob bool
	send := func(ctx context.Context, m *acl.Message) error {
		if failBob && m.Receivers[0] == "bobs-inbox" {
			return errNope
		}
		return c.Send(ctx, m)
	}
	require.NoError(t, sr.Publish(ctx, send, []byte("p1")))
	failBob = true
	err := sr.Publish(ctx, send, []byte("p2"))
	assert.ErrorIs(t, err, errNope)
	assert.Contains(t, err.Error(), `"bobs-inbox"`)
	failBob = false
	require.NoError(t, sr.Publish(ctx, send, []byte("p3")))
	got := map[acl.AgentID][]string{}
	for _, m := range c.take() {
		assert.Equal(t, acl.Inform, m.Performative)
		to := m.Receivers[0]
		want := a
		if to == "bobs-inbox" {
			want = b
		}
		assert.Equal(t, want.ConversationID, m.ConversationID)
		assert.Equal(t, want.ReplyWith, m.InReplyTo)
		got[to] = append(got[to], m.Params[protocol.SeqParam]+"="+string(m.Content))
	}
	assert.Equal(t, map[acl.AgentID][]string{
		"alice":      {"1=p1", "2=p2", "3=p3"},
		"bobs-inbox": {"1=p1", "2=p3"},
	}, got)

	cancel := func(from acl.AgentID, conv string) *acl.Message {
		m := incoming(acl.Cancel, protocol.FIPASubscribe, "prices")
		m.Sender, m.ConversationID = from, conv
		return m
	}
	assert.Equal(t, []string{"inform:"}, respond(cancel("alice", "a-1")), "inform-done")
	assert.Equal(t, []string{"failure:no such subscription"}, respond(cancel("alice", "a-1")))
	assert.Equal(t, []string{"failure:no such subscription"}, respond(cancel("mallory", "b-1")), "only the subscriber cancels")
	assert.Equal(t, 1, sr.Subscribers())
	assert.Empty(t, respond(incoming(acl.NotUnderstood, protocol.FIPASubscribe, "huh")))
	assert.Equal(t, []string{"not-understood:query-ref does not start or continue a fipa-subscribe conversation here"},
		respond(incoming(acl.QueryRef, protocol.FIPASubscribe, "")))

	// Close fails every subscriber and refuses new ones.
	require.NoError(t, sr.Close(ctx, c.Send, "maintenance"))
	closed := c.take()
	require.Len(t, closed, 1)
	assert.Equal(t, acl.Failure, closed[0].Performative)
	assert.Equal(t, "maintenance", string(closed[0].Content))
	assert.Equal(t, []acl.AgentID{"bobs-inbox"}, closed[0].Receivers)
	assert.Zero(t, sr.Subscribers())
	assert.Equal(t, []string{"refuse:the subscription service is closed"}, respond(sub("carol", "c-1")))
	require.NoError(t, sr.Publish(ctx, c.Send, []byte("nobody")))
	assert.Empty(t, c.take())
}

func TestSubscribeResponderAcceptAndGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	errGone := errors.New("gone")
	sr := &protocol.SubscribeResponder{
		Accept: func(_ context.Context, m *acl.Message) error {
			if m.Sender == "mallory" {
				return protocol.Refuse("not you")
			}
			return nil
		},
		Gone: func(err error) bool { return errors.Is(err, errGone) },
	}
	c := &fakeConn{}
	for _, from := range []acl.AgentID{"alice", "mallory", "bob"} {
		m := incoming(acl.Subscribe, protocol.FIPASubscribe, "")
		m.Sender = from
		require.NoError(t, sr.Respond(ctx, m, c))
	}
	assert.Equal(t, []string{"agree:", "refuse:not you", "agree:"}, c.acts())
	assert.Equal(t, 2, sr.Subscribers())
	send := func(ctx context.Context, m *acl.Message) error {
		if m.Receivers[0] == "bob" {
			return fmt.Errorf("deliver: %w", errGone)
		}
		return nil
	}
	require.NoError(t, sr.Publish(ctx, send, []byte("x")), "a gone subscriber is dropped, not reported")
	assert.Equal(t, 1, sr.Subscribers())
}

func TestSubscribeResponderIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sr := &protocol.SubscribeResponder{}
	c := &fakeConn{}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			m := incoming(acl.Subscribe, protocol.FIPASubscribe, "")
			m.Sender, m.ConversationID = acl.AgentID(fmt.Sprint("s", i)), fmt.Sprint("c", i)
			assert.NoError(t, sr.Respond(ctx, m, c))
		}()
		go func() {
			defer wg.Done()
			assert.NoError(t, sr.Publish(ctx, c.Send, []byte("tick")))
		}()
	}
	wg.Wait()
	assert.Equal(t, 20, sr.Subscribers())
	// Each subscriber's numbers run 1, 2, ... without gaps.
	last := map[acl.AgentID]int{}
	for _, m := range c.take() {
		if m.Performative != acl.Inform {
			continue
		}
		n, err := strconv.Atoi(m.Params[protocol.SeqParam])
		require.NoError(t, err)
		to := m.Receivers[0]
		assert.Equal(t, last[to]+1, n, "subscriber %s", to)
		last[to] = n
	}
}

func TestMuxRoutesResponders(t *testing.T) {
	t.Parallel()
	mux := protocol.Mux{
		protocol.FIPARequest: protocol.RequestResponder{Do: func(context.Context, *acl.Message) ([]byte, error) { return []byte("did"), nil }},
		protocol.FIPAPropose: protocol.ProposeResponder{},
	}
	c := &fakeConn{}
	for _, in := range []*acl.Message{
		incoming(acl.Request, protocol.FIPARequest, ""),
		incoming(acl.Propose, protocol.FIPAPropose, "p"),
		incoming(acl.QueryIf, protocol.FIPAQuery, ""),
	} {
		require.NoError(t, mux.Respond(context.Background(), in, c))
	}
	assert.Equal(t, []string{"inform:did", "accept-proposal:p", `not-understood:unsupported protocol "fipa-query"`}, c.acts())
}

func TestSubscribeResponderForgetsASubscriberItCouldNotAgreeTo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sr := &protocol.SubscribeResponder{}
	broken := &fakeConn{fail: func(*acl.Message) error { return errNope }}
	m := incoming(acl.Subscribe, protocol.FIPASubscribe, "")
	assert.ErrorIs(t, sr.Respond(ctx, m, broken), errNope, "the runtime retries")
	assert.Zero(t, sr.Subscribers(), "no agree went out, so no subscription")
	c := &fakeConn{}
	require.NoError(t, sr.Respond(ctx, m, c), "the retry")
	assert.Equal(t, []string{"agree:"}, c.acts())
	assert.Equal(t, 1, sr.Subscribers())
}
