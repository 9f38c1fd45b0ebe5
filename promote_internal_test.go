package caxton

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A promotion that finds an instance's new handler gone at its boundary —
// it crashed while the worker finished a message, after promote's check,
// and the rollout did not replace it — starts a fresh one instead of
// dereferencing nothing (found by a review's stress test: the host process
// crashed in promote).
func TestPromoteStartsANewHandlerWhenTheOldOneCrashedAtTheBoundary(t *testing.T) {
	ctx := context.Background()
	rt, err := New()
	require.NoError(t, err)
	defer rt.Close(ctx)

	entered, release := make(chan struct{}), make(chan struct{})
	v1 := func(context.Context, InstanceInfo) (Handler, error) {
		return HandlerFunc(func(context.Context, *MessageContext) error {
			close(entered)
			<-release
			return nil
		}), nil
	}
	var v2made, v2handled atomic.Int32
	v2 := func(context.Context, InstanceInfo) (Handler, error) {
		v2made.Add(1)
		return HandlerFunc(func(context.Context, *MessageContext) error {
			v2handled.Add(1)
			return nil
		}), nil
	}
	require.NoError(t, rt.Spawn(ctx, AgentSpec{Name: "p", NewHandler: v1}))
	a, err := rt.agent("p")
	require.NoError(t, err)
	in := a.all()[0]

	to := newVersion(2, AgentSpec{Name: "p", NewHandler: v2, Version: "v2"})
	ro := newRollout(a, a.version(), to, Strategy{})
	s, err := in.makeSlot(ctx, to, 0)
	require.NoError(t, err)
	in.next.Store(s)

	require.NoError(t, rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"p"}}))
	<-entered // the worker is in a v1 handler
	done := make(chan error, 1)
	go func() { done <- a.promote(ctx, ro) }()
	// promote passed its check and waits at the boundary: it asked the
	// worker to stop.
	require.Eventually(t, func() bool { return isDone(in.mb.Stopping()) }, time.Minute, time.Millisecond)
	in.next.Store(nil) // the new handler crashed meanwhile and was not replaced
	close(release)

	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("promote did not return")
	}
	assert.Equal(t, int32(2), v2made.Load(), "a fresh new-version handler replaced the missing one")
	assert.Equal(t, "v2", a.version().label)
	require.NoError(t, rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"p"}}))
	require.Eventually(t, func() bool { return v2handled.Load() == 1 }, time.Minute, time.Millisecond, "the next message goes to the new version")
}

// A promotion whose context ends after its first instance switched
// finishes the others: stopping there would leave the switched ones on the
// new version while the agent's version says the old one (its rollback
// drops only the handlers not yet switched).
func TestPromoteFinishesOnceAnInstanceSwitched(t *testing.T) {
	ctx := context.Background()
	rt, err := New()
	require.NoError(t, err)
	defer rt.Close(ctx)

	entered, release := make(chan struct{}), make(chan struct{})
	v1 := func(_ context.Context, info InstanceInfo) (Handler, error) {
		return HandlerFunc(func(context.Context, *MessageContext) error {
			if info.Replica == 1 { // the second instance is busy when promote reaches it
				close(entered)
				<-release
			}
			return nil
		}), nil
	}
	v2 := func(context.Context, InstanceInfo) (Handler, error) {
		return HandlerFunc(func(context.Context, *MessageContext) error { return nil }), nil
	}
	require.NoError(t, rt.Spawn(ctx, AgentSpec{Name: "q", NewHandler: v1, Replicas: 2}))
	a, err := rt.agent("q")
	require.NoError(t, err)
	to := newVersion(2, AgentSpec{Name: "q", NewHandler: v2, Version: "v2"})
	ro := newRollout(a, a.version(), to, Strategy{})
	for _, in := range a.all() {
		s, err := in.makeSlot(ctx, to, 0)
		require.NoError(t, err)
		in.next.Store(s)
	}
	second := a.all()[1]
	require.NoError(t, second.mb.PushForce(store.Envelope{Msg: &acl.Message{Performative: acl.Inform, Sender: "host", Receivers: []acl.AgentID{"q"}}}))
	<-entered

	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.promote(pctx, ro) }()
	require.Eventually(t, func() bool { return isDone(second.mb.Stopping()) }, time.Minute, time.Millisecond,
		"the first instance switched; promote waits for the second")
	cancel()
	close(release)
	select {
	case err := <-done:
		require.NoError(t, err, "it finished rather than stop half-way")
	case <-time.After(time.Minute):
		t.Fatal("promote did not return")
	}
	for i, in := range a.all() {
		assert.Same(t, to, in.live.Load().v, "instance %d on the new version", i)
	}
	assert.Equal(t, "v2", a.version().label)
}
