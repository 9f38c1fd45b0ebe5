package caxton_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func request(content string, to ...acl.AgentID) *acl.Message {
	return &acl.Message{Performative: acl.Request, Receivers: to, Content: []byte(content)}
}

func TestRequestFillsConversationFields(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "echo", Handler: echo()})
	m := request("q", "echo")
	reply := rt.MustRequest(m)
	assert.NotEmpty(t, m.ReplyWith)
	assert.Equal(t, m.ReplyWith, m.ConversationID, "a fresh conversation is named after the request")
	assert.Equal(t, m.ReplyWith, reply.InReplyTo)
	assert.Equal(t, m.ConversationID, reply.ConversationID)
}

func TestAgentRequestsFromInsideItsHandler(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "echo", Handler: echo()})
	rt.MustSpawn(caxton.AgentSpec{Name: "relay", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		ans, err := mc.Request(ctx, request("inner:"+string(mc.Message().Content), "echo"))
		if err != nil {
			return err
		}
		return mc.Reply(ctx, acl.Inform, ans.Content)
	})})
	reply := rt.MustRequest(request("x", "relay"))
	assert.Equal(t, "inner:x", string(reply.Content))
	assert.Equal(t, acl.AgentID("relay"), reply.Sender)
}

func TestReplyMatchedByConversationWhenInReplyToIsMissing(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "terse", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		in := mc.Message()
		return mc.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{in.Sender}, ConversationID: in.ConversationID, Content: []byte("ok")})
	})})
	m := request("q", "terse")
	m.ConversationID = "conv-7"
	reply := rt.MustRequest(m)
	assert.Equal(t, "ok", string(reply.Content))
	assert.Equal(t, 0, rt.Inbox().Len())
}

func TestRequestEndsAtReplyBy(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	caxtontest.NewRecorder(t, rt.Runtime, "silent")
	m := request("q", "silent")
	m.ReplyBy = rt.Clock.Now().Add(5 * time.Second)
	errc := make(chan error, 1)
	go func() {
		_, err := rt.Request(caxtontest.Context(t), m)
		errc <- err
	}()
	rt.AdvanceWhenWaiting(1, 5*time.Second)
	assert.ErrorIs(t, <-errc, caxton.ErrNoReply)
}

func TestRequestEndsWithContext(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	caxtontest.NewRecorder(t, rt.Runtime, "silent")
	ctx, cancel := context.WithCancel(caxtontest.Context(t))
	errc := make(chan error, 1)
	go func() {
		_, err := rt.Request(ctx, request("q", "silent"))
		errc <- err
	}()
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
}

func TestLateReplyGoesToTheInbox(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	received, release := make(chan struct{}), make(chan struct{})
	rt.MustSpawn(caxton.AgentSpec{Name: "slow", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		close(received)
		<-release
		return mc.Reply(ctx, acl.Inform, []byte("late"))
	})})
	ctx, cancel := context.WithCancel(caxtontest.Context(t))
	errc := make(chan error, 1)
	go func() {
		_, err := rt.Request(ctx, request("q", "slow"))
		errc <- err
	}()
	<-received
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	close(release)
	assert.Equal(t, "late", string(caxtontest.AwaitInbox(t, rt.Inbox(), nil).Content), "nothing is dropped: the reply waits in the inbox")
}

func TestDuplicateReplyWithIsRefused(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "silent")
	first := request("q", "silent")
	first.ReplyWith = "same"
	ctx, cancel := context.WithCancel(caxtontest.Context(t))
	defer cancel()
	go func() { _, _ = rt.Request(ctx, first) }()
	rec.Await(t, nil) // the first request is registered before it is sent

	second := request("q", "silent")
	second.ReplyWith = "same"
	_, err := rt.Request(caxtontest.Context(t), second)
	var fe *acl.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "reply_with", fe.Field)
}
