package caxton_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func inform(content string, to ...acl.AgentID) *acl.Message {
	return &acl.Message{Performative: acl.Inform, Receivers: to, Content: []byte(content)}
}

func contents(ms []*acl.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Content)
	}
	return out
}

func TestSendToSeveralReceiversSharesOneMessage(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	a := caxtontest.NewRecorder(t, rt.Runtime, "a")
	b := caxtontest.NewRecorder(t, rt.Runtime, "b")
	m := inform("hello", "a", "b")
	rt.MustSend(m)
	ga, gb := a.Await(t, nil), b.Await(t, nil)
	assert.Same(t, m, ga)
	assert.Same(t, m, gb)
	assert.False(t, m.ID.IsZero(), "the runtime assigns an id")
	assert.Equal(t, rt.Clock.Now(), m.CreatedAt, "created-at comes from the runtime clock")
	assert.Equal(t, acl.AgentID("host"), m.Sender, "host sends come from the default inbox")
}

func TestSendToUnknownReceiverDeliversNothing(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	a := caxtontest.NewRecorder(t, rt.Runtime, "a")
	err := rt.Send(caxtontest.Context(t), inform("first", "a", "ghost"))
	require.ErrorIs(t, err, caxton.ErrAgentNotFound)
	var de *caxton.DeliveryError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, acl.AgentID("ghost"), de.Receiver)

	rt.MustSend(inform("second", "a"))
	a.Await(t, nil)
	assert.Equal(t, []string{"second"}, contents(a.Messages()), "addressing is all-or-nothing")
}

func TestInvalidMessageNamesTheField(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	caxtontest.NewRecorder(t, rt.Runtime, "a")
	tests := []struct {
		name  string
		msg   *acl.Message
		field string
	}{
		{"nil", nil, "message"},
		{"no performative", &acl.Message{Receivers: []acl.AgentID{"a"}}, "performative"},
		{"no receiver", &acl.Message{Performative: acl.Inform}, "receiver"},
		{"duplicate receiver", inform("x", "a", "a"), "receiver"},
		{"reply-by past", &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"a"}, ReplyBy: rt.Clock.Now()}, "reply_by"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := rt.Send(caxtontest.Context(t), tc.msg)
			var fe *acl.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
			assert.ErrorIs(t, err, acl.ErrInvalid)
		})
	}
}

func TestContentLimitIsConfigurable(t *testing.T) {
	rt := caxtontest.NewRuntime(t, caxton.WithMaxContentSize(4))
	caxtontest.NewRecorder(t, rt.Runtime, "a")
	require.NoError(t, rt.Send(caxtontest.Context(t), inform("1234", "a")))
	err := rt.Send(caxtontest.Context(t), inform("12345", "a"))
	var fe *acl.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "content", fe.Field)
}

func TestAgentSendingToUnknownAgentGetsFailureNotice(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	sendErr := make(chan error, 1)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "watcher")
	rt.MustSpawn(caxton.AgentSpec{Name: "talker", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		m := mc.Message()
		if m.Performative == acl.Failure {
			return mc.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"watcher"},
				Content: m.Content, InReplyTo: m.InReplyTo, Params: map[string]string{"X-From": string(m.Sender)}})
		}
		sendErr <- mc.Send(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"ghost"}, ReplyWith: "rw-1"})
		return nil
	})})
	rt.MustSend(inform("go", "talker"))
	require.ErrorIs(t, <-sendErr, caxton.ErrAgentNotFound)
	got := rec.Await(t, nil)
	assert.Equal(t, "caxton", got.Params["X-From"], "the notice comes from the system name")
	assert.Equal(t, "rw-1", got.InReplyTo)
	assert.Contains(t, string(got.Content), "ghost")
}

func TestAgentCannotForgeSender(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	errs := make(chan error, 1)
	caxtontest.NewRecorder(t, rt.Runtime, "victim")
	rt.MustSpawn(caxton.AgentSpec{Name: "forger", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		errs <- mc.Send(ctx, &acl.Message{Performative: acl.Inform, Sender: "victim", Receivers: []acl.AgentID{"victim"}})
		return nil
	})})
	rt.MustSend(inform("go", "forger"))
	assert.ErrorIs(t, <-errs, acl.ErrInvalid)
}

func TestTopicsReachAgentsInboxesAndCallbacks(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	a := caxtontest.NewRecorder(t, rt.Runtime, "a", caxtontest.RecorderSpec(func(s *caxton.AgentSpec) { s.Topics = []string{"news"} }))
	b := caxtontest.NewRecorder(t, rt.Runtime, "b")
	require.NoError(t, rt.Subscribe("news", "b"))
	ib, err := rt.NewInbox("desk")
	require.NoError(t, err)
	require.NoError(t, rt.Subscribe("news", "desk"))
	got := make(chan *acl.Message, 1)
	sub, err := rt.SubscribeFunc("news", func(_ context.Context, m *acl.Message) error { got <- m; return nil })
	require.NoError(t, err)
	assert.Equal(t, "news", sub.Topic())

	rt.MustSend(inform("extra", acl.Topic("news")))
	a.Await(t, nil)
	b.Await(t, nil)
	assert.Equal(t, "extra", string(caxtontest.AwaitInbox(t, ib, nil).Content))
	assert.Equal(t, "extra", string((<-got).Content))
	assert.Equal(t, []string{"news"}, must(rt.Agent("a")).Topics)

	require.NoError(t, sub.Unsubscribe(caxtontest.Context(t)))
	require.NoError(t, rt.Unsubscribe("news", "b"))
	require.ErrorIs(t, rt.Unsubscribe("news", "b"), caxton.ErrAgentNotFound)
	rt.MustSend(inform("second", acl.Topic("news")))
	a.AwaitN(t, 2)
	caxtontest.AwaitInbox(t, ib, nil)
	assert.Equal(t, 1, b.Len())
	assert.Empty(t, got)
}

func TestTopicWithoutSubscribersIsAnError(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	err := rt.Send(caxtontest.Context(t), inform("x", acl.Topic("nobody")))
	assert.ErrorIs(t, err, caxton.ErrNoSubscribers)
}

func TestContentRulesRouteOnceAndCanBeRemoved(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	billing := caxtontest.NewRecorder(t, rt.Runtime, "billing")
	audit := caxtontest.NewRecorder(t, rt.Runtime, "audit")
	id, err := rt.AddRule(acl.MatchOntology("money"), "audit")
	require.NoError(t, err)

	m := inform("pay", "billing")
	m.Ontology = "money"
	rt.MustSend(m)
	assert.Same(t, m, audit.Await(t, nil))
	billing.Await(t, nil)

	both := inform("both", "billing", "audit")
	both.Ontology = "money"
	rt.MustSend(both)
	rt.MustSend(inform("plain", "audit"))
	assert.Equal(t, []string{"pay", "both", "plain"}, contents(audit.AwaitN(t, 3)), "a rule target that is also a receiver gets the message once")

	require.NoError(t, rt.RemoveRule(id))
	require.Error(t, rt.RemoveRule(id))
	m2 := inform("after", "billing")
	m2.Ontology = "money"
	rt.MustSend(m2)
	rt.MustSend(inform("marker", "audit"))
	assert.Equal(t, "marker", string(audit.AwaitN(t, 4)[3].Content))

	_, err = rt.AddRule(nil, "audit")
	assert.ErrorIs(t, err, caxton.ErrInvalidSpec)
	_, err = rt.AddRule(acl.MatchAll(), "ghost")
	assert.ErrorIs(t, err, caxton.ErrAgentNotFound)
}

func TestReplicasRoundRobin(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	var mu sync.Mutex
	perReplica := map[int][]string{}
	done := caxtontest.NewRecorder(t, rt.Runtime, "done")
	rt.MustSpawn(caxton.AgentSpec{Name: "worker", Replicas: 3, Balance: caxton.BalanceRoundRobin,
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			mu.Lock()
			perReplica[mc.Replica()] = append(perReplica[mc.Replica()], string(mc.Message().Content))
			mu.Unlock()
			return mc.Send(ctx, inform("ok", "done"))
		})})
	for i := range 6 {
		rt.MustSend(inform(strconv.Itoa(i), "worker"))
	}
	done.AwaitN(t, 6)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, perReplica, 3)
	for r, got := range perReplica {
		assert.Len(t, got, 2, "replica %d", r)
	}
}

func TestReplicasLeastLoadedAvoidsBusyReplica(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	gate := make(chan struct{})
	started := make(chan int, 10)
	done := caxtontest.NewRecorder(t, rt.Runtime, "done")
	rt.MustSpawn(caxton.AgentSpec{Name: "worker", Replicas: 2,
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			started <- mc.Replica()
			if string(mc.Message().Content) == "slow" {
				<-gate
			}
			return mc.Send(ctx, inform(fmt.Sprint(mc.Replica()), "done"))
		})})
	rt.MustSend(inform("slow", "worker"))
	slowReplica := <-started
	for i := range 3 {
		rt.MustSend(inform("fast", "worker"))
		assert.NotEqual(t, slowReplica, <-started, "the busy replica is skipped")
		done.AwaitN(t, i+1)
		caxtontest.Eventually(t, func() bool { return must(rt.Agent("worker")).InFlight == 1 }, "only the slow message in flight")
	}
	close(gate)
	done.AwaitN(t, 4)
}

func TestInboxConversation(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "echo", Handler: echo()})
	ib, err := rt.NewInbox("desk")
	require.NoError(t, err)
	_, err = rt.NewInbox("desk")
	require.ErrorIs(t, err, caxton.ErrAgentExists)

	for _, c := range []string{"one", "two", "three"} {
		require.NoError(t, ib.Send(caxtontest.Context(t), &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}, Content: []byte(c)}))
	}
	// Selective receive takes "two" first and leaves the others in order.
	two := caxtontest.AwaitInbox(t, ib, acl.MatchContent([]byte("two")))
	assert.Equal(t, acl.AgentID("echo"), two.Sender)
	assert.Equal(t, "one", string(caxtontest.AwaitInbox(t, ib, nil).Content))
	assert.Equal(t, "three", string(caxtontest.AwaitInbox(t, ib, nil).Content))

	reply, err := ib.Request(caxtontest.Context(t), &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}, Content: []byte("q")})
	require.NoError(t, err)
	assert.Equal(t, []acl.AgentID{"desk"}, reply.Receivers)

	err = ib.Send(caxtontest.Context(t), &acl.Message{Performative: acl.Inform, Sender: "other", Receivers: []acl.AgentID{"echo"}})
	assert.ErrorIs(t, err, acl.ErrInvalid, "an inbox sends only as itself")

	require.NoError(t, ib.Close())
	_, err = ib.Receive(caxtontest.Context(t))
	assert.ErrorIs(t, err, caxton.ErrClosed)
	err = rt.Send(caxtontest.Context(t), inform("late", "desk"))
	assert.ErrorIs(t, err, caxton.ErrAgentNotFound)
	assert.Error(t, rt.Inbox().Close(), "the default inbox lives as long as the runtime")
}

func TestFullInboxRefusesWithError(t *testing.T) {
	rt := caxtontest.NewRuntime(t, caxton.WithInboxCapacity(1))
	ib, err := rt.NewInbox("tiny")
	require.NoError(t, err)
	rt.MustSend(inform("1", "tiny"))
	err = rt.Send(caxtontest.Context(t), inform("2", "tiny"))
	assert.ErrorIs(t, err, caxton.ErrMailboxFull)
	assert.Equal(t, 1, ib.Len())
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(errors.Join(errors.New("must"), err))
	}
	return v
}

func TestMalformedReceiverIsReportedAsMalformed(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	caxtontest.NewRecorder(t, rt.Runtime, "a")
	for _, bad := range []acl.AgentID{"no spaces", "", acl.Topic("")} {
		err := rt.Send(caxtontest.Context(t), inform("x", "a", bad))
		var fe *acl.FieldError
		require.ErrorAs(t, err, &fe, "%q", bad)
		assert.Equal(t, "receiver", fe.Field)
		assert.NotErrorIs(t, err, caxton.ErrAgentNotFound)
	}
}
