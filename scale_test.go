package caxton_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handled records which replica handled which message, in handling order.
type handled struct {
	mu   sync.Mutex
	recs []handledRec
}

type handledRec struct {
	content string
	replica int
	version string
}

func (h *handled) add(r handledRec) {
	h.mu.Lock()
	h.recs = append(h.recs, r)
	h.mu.Unlock()
}

func (h *handled) snapshot() []handledRec {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]handledRec(nil), h.recs...)
}

func (h *handled) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.recs)
}

// recordingFactory makes handlers that wait for gate (if not nil) and then
// record the message, the replica and the version.
func recordingFactory(h *handled, gate <-chan struct{}) func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) {
	return func(_ context.Context, info caxton.InstanceInfo) (caxton.Handler, error) {
		return caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			if gate != nil {
				<-gate
			}
			h.add(handledRec{content: string(mc.Message().Content), replica: info.Replica, version: info.Version})
			return nil
		}), nil
	}
}

// Scaling down under load: the retired instances finish the message they
// hold, their queues move to the survivor in order, and every message is
// handled exactly once — with the in-memory store and a durable one.
func TestScaleDownMovesQueuesInOrder(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "durable"}[durable], func(t *testing.T) {
			var rt *caxtontest.Runtime
			if durable {
				rt = durableRuntime(t, t.TempDir())
			} else {
				rt = caxtontest.NewRuntime(t)
			}
			ctx := caxtontest.Context(t)
			events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
			var h handled
			gate := make(chan struct{})
			rt.MustSpawn(caxton.AgentSpec{Name: "pool", Replicas: 3, Balance: caxton.BalanceRoundRobin, NewHandler: recordingFactory(&h, gate)})
			const n = 30
			for i := range n {
				rt.MustSend(lcMsg("pool", strconv.Itoa(i)))
			}
			caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "pool").InFlight+lcInfo(t, rt, "pool").QueueDepth == n }, "every message accepted")

			scaled := make(chan error, 1)
			go func() { scaled <- rt.Scale(ctx, "pool", 1) }()
			caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "pool").Replicas == 1 }, "new messages going to the survivor only")
			close(gate)
			require.NoError(t, <-scaled)
			caxtontest.Eventually(t, func() bool { return h.len() >= n }, "every message handled")

			recs := h.snapshot()
			require.Len(t, recs, n, "each message once")
			last := map[int]int{} // original replica → last index handled
			for _, r := range recs {
				i, err := strconv.Atoi(r.content)
				require.NoError(t, err)
				orig := (i + 1) % 3 // round robin starts at replica 1
				prev, seen := last[orig]
				assert.True(t, !seen || i > prev, "message %d of replica %d handled after %d", i, orig, prev)
				last[orig] = i
			}
			info := lcInfo(t, rt, "pool")
			assert.Equal(t, 1, info.Replicas)
			// counted after the handler returned: it may trail the record a moment
			caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "pool").Processed == uint64(n) }, "%d messages counted as processed", n)
			for {
				e := nextEvent(t, events)
				if e.Kind == caxton.EventScaled {
					assert.Equal(t, "3 → 1 instances", e.Detail)
					break
				}
			}
			dls, err := rt.DeadLetters(context.Background())
			require.NoError(t, err)
			assert.Empty(t, dls)
		})
	}
}

// Scaling up adds instances that take messages at once; Scale keeps to the
// agent's bounds and names the bad value.
func TestScaleUpAndBounds(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	var h handled
	rt.MustSpawn(caxton.AgentSpec{Name: "grow", Balance: caxton.BalanceRoundRobin, Scale: caxton.ScalePolicy{Max: 4}, NewHandler: recordingFactory(&h, nil)})
	require.NoError(t, rt.Scale(ctx, "grow", 3))
	assert.Equal(t, 3, lcInfo(t, rt, "grow").Replicas)
	for i := range 9 {
		rt.MustSend(lcMsg("grow", strconv.Itoa(i)))
	}
	caxtontest.Eventually(t, func() bool { return h.len() == 9 }, "9 handled")
	per := map[int]int{}
	for _, r := range h.snapshot() {
		per[r.replica]++
	}
	assert.Equal(t, map[int]int{0: 3, 1: 3, 2: 3}, per)

	var se *caxton.SpecError
	err := rt.Scale(ctx, "grow", 5)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "n", se.Field)
	require.ErrorAs(t, rt.Scale(ctx, "grow", 0), &se)
	require.ErrorIs(t, rt.Scale(ctx, "nobody", 2), caxton.ErrAgentNotFound)

	err = rt.Spawn(ctx, caxton.AgentSpec{Name: "bad", Handler: lcNop(), Replicas: 5, Scale: caxton.ScalePolicy{Max: 4}})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "Replicas", se.Field)
	err = rt.Spawn(ctx, caxton.AgentSpec{Name: "bad", Handler: lcNop(), Scale: caxton.ScalePolicy{Autoscale: &caxton.Autoscale{}}})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "Scale.Autoscale.UpDepth", se.Field)
}

// A stopped agent can be scaled; the new instances start with it.
func TestScaleStoppedAgent(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	var h handled
	rt.MustSpawn(caxton.AgentSpec{Name: "idle", NewHandler: recordingFactory(&h, nil)})
	require.NoError(t, rt.Stop(ctx, "idle"))
	require.NoError(t, rt.Scale(ctx, "idle", 2))
	rt.MustSend(lcMsg("idle", "a"))
	rt.MustSend(lcMsg("idle", "b"))
	require.NoError(t, rt.Start(ctx, "idle"))
	caxtontest.Eventually(t, func() bool { return h.len() == 2 }, "2 handled")
	require.NoError(t, rt.Scale(ctx, "idle", 1))
	assert.Equal(t, 1, lcInfo(t, rt, "idle").Replicas)
}

// The autoscaler adds an instance when the queue is deep, waits out its
// cool-down, and retires instances when the agent is idle — on the fake
// clock.
func TestAutoscaleFollowsQueueDepth(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
	var h handled
	gate := make(chan struct{})
	rt.MustSpawn(caxton.AgentSpec{Name: "elastic", NewHandler: recordingFactory(&h, gate),
		Scale: caxton.ScalePolicy{Max: 2, Autoscale: &caxton.Autoscale{Every: time.Second, Cooldown: 5 * time.Second, UpDepth: 4}}})
	for i := range 20 {
		rt.MustSend(lcMsg("elastic", strconv.Itoa(i)))
	}
	awaitKind := func(k caxton.EventKind) caxton.Event {
		for {
			if e := nextEvent(t, events); e.Kind == k {
				return e
			}
		}
	}
	awaitKind(caxton.EventSpawned)
	rt.AdvanceWhenWaiting(1, time.Second)
	assert.Equal(t, "1 → 2 instances", awaitKind(caxton.EventScaled).Detail)
	assert.Equal(t, 2, lcInfo(t, rt, "elastic").Replicas)

	close(gate)
	caxtontest.Eventually(t, func() bool { return h.len() == 20 }, "the backlog handled")
	for range 4 { // within the cool-down: no change
		rt.AdvanceWhenWaiting(1, time.Second)
	}
	assert.Equal(t, 2, lcInfo(t, rt, "elastic").Replicas)
	rt.AdvanceWhenWaiting(1, time.Second)
	assert.Equal(t, "2 → 1 instances", awaitKind(caxton.EventScaled).Detail)
	rt.AdvanceWhenWaiting(1, time.Second) // at Min: stays
	assert.Equal(t, 1, lcInfo(t, rt, "elastic").Replicas)
}
