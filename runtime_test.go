package caxton_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func echo() caxton.Handler {
	return caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		return mc.Reply(ctx, acl.Inform, mc.Message().Content)
	})
}

func TestRequestReplyFromHost(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "echo", Handler: echo()})
	reply := rt.MustRequest(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}, Content: []byte("hi")})
	assert.Equal(t, acl.Inform, reply.Performative)
	assert.Equal(t, "hi", string(reply.Content))
	assert.Equal(t, acl.AgentID("echo"), reply.Sender)
	assert.Equal(t, []acl.AgentID{"host"}, reply.Receivers)
	assert.Equal(t, 0, rt.Inbox().Len(), "the reply went to the waiting Request, not the inbox")
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name  string
		opt   caxton.Option
		field string
	}{
		{"nil clock", caxton.WithClock(nil), "WithClock"},
		{"nil store", caxton.WithStore(nil), "WithStore"},
		{"zero content", caxton.WithMaxContentSize(0), "WithMaxContentSize"},
		{"bad host name", caxton.WithHostName("a b"), "WithHostName"},
		{"bad system name", caxton.WithSystemName(""), "WithSystemName"},
		{"inbox capacity", caxton.WithInboxCapacity(0), "WithInboxCapacity"},
		{"nil option", nil, "options[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := caxton.New(tc.opt)
			require.Error(t, err)
			assert.Nil(t, rt)
			var se *caxton.SpecError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.field, se.Field)
			assert.ErrorIs(t, err, caxton.ErrInvalidSpec)
		})
	}
	_, err := caxton.New(caxton.WithHostName("same"), caxton.WithSystemName("same"))
	assert.ErrorIs(t, err, caxton.ErrInvalidSpec)
}

// A nil logger is the default, silent one — the same in every Caxton
// package — so a handler's log calls do not panic.
func TestNilLoggerIsTheSilentDefault(t *testing.T) {
	rt := caxtontest.NewRuntime(t, caxton.WithLogger(nil))
	rt.MustSpawn(caxton.AgentSpec{Name: "chatty", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		mc.Logger().InfoContext(ctx, "handling")
		return mc.Reply(ctx, acl.Inform, nil)
	})})
	rt.MustRequest(acl.New(acl.Request, "chatty"))
}

func TestSendAfterCloseFails(t *testing.T) {
	rt, err := caxton.New()
	require.NoError(t, err)
	require.NoError(t, rt.Close(context.Background()))
	require.NoError(t, rt.Close(context.Background()), "closing twice is a no-op")
	err = rt.Send(context.Background(), acl.New(acl.Inform, "x"))
	assert.ErrorIs(t, err, caxton.ErrClosed)
	_, err = rt.Request(context.Background(), acl.New(acl.Request, "x"))
	assert.ErrorIs(t, err, caxton.ErrClosed)
	err = rt.Spawn(context.Background(), caxton.AgentSpec{Name: "a", Handler: echo()})
	assert.ErrorIs(t, err, caxton.ErrClosed)
}

func TestNilContextIsAnErrorNotAPanic(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "echo", Handler: echo()})
	ib, err := rt.NewInbox("desk")
	require.NoError(t, err)
	var nilCtx context.Context
	m := func() *acl.Message { return acl.New(acl.Request, "echo") }
	_, reqErr := rt.Request(nilCtx, m())
	_, recvErr := ib.Receive(nilCtx)
	for name, err := range map[string]error{
		"Send":              rt.Send(nilCtx, m()),
		"Request":           reqErr,
		"Receive":           recvErr,
		"Spawn":             rt.Spawn(nilCtx, caxton.AgentSpec{Name: "x", Handler: echo()}),
		"Stop":              rt.Stop(nilCtx, "echo"),
		"Start":             rt.Start(nilCtx, "echo"),
		"ReplayDeadLetters": rt.ReplayDeadLetters(nilCtx, "id"),
	} {
		assert.ErrorIs(t, err, caxton.ErrInvalidSpec, name)
		assert.ErrorContains(t, err, "nil context", name)
	}
}
