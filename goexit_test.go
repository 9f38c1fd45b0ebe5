package caxton_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A handler that ends its goroutine — runtime.Goexit, as t.FailNow or a
// testify require inside a handler do — fails that attempt; it does not
// wedge the agent (before, no worker ever started again and Stop waited
// for good) nor lose the message.
func TestAHandlerThatCallsGoexitFailsItsAttemptOnly(t *testing.T) {
	ctx := context.Background()
	rt, err := caxton.New()
	require.NoError(t, err)
	defer rt.Close(ctx)

	var calls, handled atomic.Int32
	require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "g", Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
		switch {
		case string(mc.Message().Content) == "always":
			runtime.Goexit()
		case calls.Add(1) == 1:
			runtime.Goexit() // the first attempt only
		}
		handled.Add(1)
		return nil
	}), Delivery: caxton.DeliveryPolicy{MaxAttempts: 3}}))

	send := func(content string) {
		require.NoError(t, rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"g"}, Content: []byte(content)}))
	}
	send("once")
	send("next")
	require.Eventually(t, func() bool { return handled.Load() == 2 }, time.Minute, time.Millisecond,
		"the message retried after the Goexit, and the one behind it")
	info, err := rt.Agent("g")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.Failed)
	assert.Contains(t, info.LastError, "Goexit")

	send("always")
	require.Eventually(t, func() bool {
		dls, err := rt.DeadLetters(ctx)
		return err == nil && len(dls) == 1
	}, time.Minute, time.Millisecond, "a handler that always ends its goroutine: dead-lettered at MaxAttempts")
	dls, err := rt.DeadLetters(ctx)
	require.NoError(t, err)
	assert.Equal(t, "max attempts", dls[0].Reason)
	assert.Contains(t, dls[0].LastError, "Goexit")

	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, rt.Stop(stopCtx, "g"), "the agent is not wedged")
	require.NoError(t, rt.Start(ctx, "g"))
	send("after")
	require.Eventually(t, func() bool { return handled.Load() == 3 }, time.Minute, time.Millisecond)
}

// exitOnceBatch is a BatchHandler whose first batch ends its goroutine.
type exitOnceBatch struct {
	calls   atomic.Int32
	handled atomic.Int32
}

func (h *exitOnceBatch) HandleMessage(context.Context, *caxton.MessageContext) error { return nil }

func (h *exitOnceBatch) HandleBatch(_ context.Context, b *caxton.Batch) error {
	if h.calls.Add(1) == 1 {
		runtime.Goexit()
	}
	h.handled.Add(int32(len(b.Messages)))
	return nil
}

// The same for a BatchHandler: the whole batch in hand is retried.
func TestABatchHandlerThatCallsGoexitHasItsBatchRetried(t *testing.T) {
	ctx := context.Background()
	rt, err := caxton.New()
	require.NoError(t, err)
	defer rt.Close(ctx)
	h := &exitOnceBatch{}
	require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "b", Handler: h, BatchSize: 8}))
	for range 5 {
		require.NoError(t, rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"b"}}))
	}
	require.Eventually(t, func() bool { return h.handled.Load() == 5 }, time.Minute, time.Millisecond,
		"every message handled once the worker that died is replaced")
	info, err := rt.Agent("b")
	require.NoError(t, err)
	assert.Contains(t, info.LastError, "Goexit")
}
