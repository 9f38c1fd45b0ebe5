package caxton_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nextEvent receives the next event or fails the test.
func nextEvent(t *testing.T, ch <-chan caxton.Event) caxton.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		require.True(t, ok, "the event channel closed")
		return e
	case <-time.After(caxtontest.DefaultTimeout):
		t.Fatal("no event")
		panic("unreachable")
	}
}

// The host learns of lifecycle changes from a watch (and a hook) instead of
// polling: spawned, stopped, started, restarted, failed, removed — in order,
// each with the agent, its version and why.
func TestWatchReportsLifecycleEvents(t *testing.T) {
	var hooked []caxton.Event
	rt := caxtontest.NewRuntime(t, caxton.WithEventHook(func(e caxton.Event) { hooked = append(hooked, e) }))
	ctx := caxtontest.Context(t)
	events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
	start := rt.Clock.Now()

	rt.MustSpawn(caxton.AgentSpec{Name: "quiet", Version: "2.1.0", Handler: lcNop()})
	require.NoError(t, rt.Stop(ctx, "quiet"))
	require.NoError(t, rt.Start(ctx, "quiet"))
	rt.MustSpawn(caxton.AgentSpec{Name: "fragile", Restart: caxton.RestartPolicy{MaxRestarts: 1, Backoff: caxton.Backoff{Initial: time.Millisecond}},
		Delivery: caxton.DeliveryPolicy{Backoff: caxton.Backoff{Initial: time.Millisecond}},
		NewHandler: func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) {
			return caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { panic("boom") }), nil
		}})
	rt.MustSend(lcMsg("fragile", "x"))
	rt.AdvanceWhenWaiting(1, time.Millisecond) // the first replacement's backoff
	rt.AdvanceWhenWaiting(1, time.Millisecond) // the retry's backoff; the second panic fails the agent

	want := []struct {
		kind    caxton.EventKind
		agent   acl.AgentID
		replica int
		detail  string
	}{
		{caxton.EventSpawned, "quiet", -1, ""},
		{caxton.EventStopped, "quiet", -1, ""},
		{caxton.EventStarted, "quiet", -1, ""},
		{caxton.EventSpawned, "fragile", -1, ""},
		{caxton.EventRestarted, "fragile", 0, "panicked: boom"},
		{caxton.EventFailed, "fragile", -1, "2 instance replacements"},
		{caxton.EventRemoved, "quiet", -1, ""},
	}
	var seq uint64
	for i, w := range want {
		if w.kind == caxton.EventRemoved {
			// after fragile's failed event, not after its state: the state
			// changes first, the event follows (a Remove between them has
			// the earlier event; CI saw it)
			require.NoError(t, rt.Remove(ctx, "quiet"))
		}
		e := nextEvent(t, events)
		assert.Equal(t, w.kind, e.Kind, "event %d: %v", i, e)
		assert.Equal(t, w.agent, e.Agent, "event %d", i)
		assert.Equal(t, w.replica, e.Replica, "event %d", i)
		assert.Contains(t, e.Detail, w.detail, "event %d", i)
		assert.Greater(t, e.Seq, seq, "in order")
		seq = e.Seq
		assert.False(t, e.At.Before(start) || e.At.After(rt.Clock.Now()), "on the runtime's clock")
	}
	assert.Len(t, hooked, len(want), "the hook saw the same events")
	assert.Equal(t, "2.1.0", hooked[0].Version)
	assert.Equal(t, "v1", hooked[3].Version)
	assert.Equal(t, "quiet spawned", hooked[0].String())
}

// A watcher that does not keep up misses events instead of holding the
// runtime up, and is told how many it missed; its channel closes with its
// context and with the runtime.
func TestWatchNeverBlocksTheRuntime(t *testing.T) {
	rt, err := caxton.New()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	slow := rt.Watch(ctx, 1)
	gone := rt.Watch(context.Background(), 1)
	for _, name := range []acl.AgentID{"a", "b", "c"} {
		require.NoError(t, rt.Spawn(context.Background(), caxton.AgentSpec{Name: name, Handler: lcNop()}))
	}
	first := nextEvent(t, slow)
	assert.Equal(t, acl.AgentID("a"), first.Agent)
	assert.Zero(t, first.Missed)
	require.NoError(t, rt.Remove(context.Background(), "a"))
	next := nextEvent(t, slow)
	assert.Equal(t, caxton.EventRemoved, next.Kind)
	assert.Equal(t, uint64(2), next.Missed, "b's and c's spawns were missed")

	cancel()
	for range slow { // drained, then closed
	}
	require.NoError(t, rt.Close(context.Background()))
	for range gone {
	}
	closed := rt.Watch(context.Background(), 4)
	_, open := <-closed
	assert.False(t, open, "after Close, Watch returns a closed channel")
}

// Each agent's recent log records — its handler's, its guest's, the
// runtime's about it — are kept for Logs, whatever the runtime's logger
// does with them, on the runtime's clock.
func TestLogsKeepsEachAgentsRecentRecords(t *testing.T) {
	rt := caxtontest.NewRuntime(t, caxton.WithLogBuffer(3, 0))
	rt.MustSpawn(caxton.AgentSpec{Name: "chatty", Delivery: caxton.DeliveryPolicy{MaxAttempts: 1},
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			mc.Logger().InfoContext(ctx, "handling", "content", string(mc.Message().Content))
			if string(mc.Message().Content) == "bad" {
				return errors.New("cannot")
			}
			return nil
		})})
	rt.MustSpawn(caxton.AgentSpec{Name: "other", Handler: lcNop()})
	start := rt.Clock.Now()
	rt.MustSend(lcMsg("chatty", "one"))
	caxtontest.Eventually(t, func() bool { return must(rt.Agent("chatty")).Processed == 1 }, "one handled")
	rt.Clock.Advance(time.Minute)
	rt.MustSend(lcMsg("chatty", "bad"))
	rt.AwaitDeadLetters(1)

	all, err := rt.Logs("chatty", time.Time{})
	require.NoError(t, err)
	var msgs []string
	for _, r := range all {
		assert.Equal(t, acl.AgentID("chatty"), r.Agent)
		msgs = append(msgs, r.Message)
	}
	assert.Equal(t, []string{"handling", "handler failed", "message dead-lettered"}, msgs, "the last 3, oldest first (the first record was pushed out)")
	assert.Equal(t, start.Add(time.Minute), all[0].Time)
	recent, err := rt.Logs("chatty", start.Add(time.Minute))
	require.NoError(t, err)
	assert.Len(t, recent, 3)
	older, err := rt.Logs("chatty", start.Add(2*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, older)
	assert.Contains(t, all[0].String(), `content=bad`)
	none, err := rt.Logs("other", time.Time{})
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = rt.Logs("ghost", time.Time{})
	assert.ErrorIs(t, err, caxton.ErrAgentNotFound)
}
