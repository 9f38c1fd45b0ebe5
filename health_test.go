package caxton_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closingHandler is a NewHandler instance that can hang and records its
// Close.
type closingHandler struct {
	hang   <-chan struct{} // nil: answers at once
	closed *atomic.Int32
	h      *handled
	info   caxton.InstanceInfo
}

func (c *closingHandler) HandleMessage(ctx context.Context, mc *caxton.MessageContext) error {
	if c.hang != nil {
		<-c.hang // ignores ctx, as a stuck call would
	}
	c.h.add(handledRec{content: string(mc.Message().Content), replica: c.info.Replica, version: strconv.Itoa(c.info.Restart)})
	return nil
}

func (c *closingHandler) Close() error { c.closed.Add(1); return nil }

// A handler that overruns DeliveryPolicy.Timeout is hung: the worker moves
// on, the instance is replaced, the message retried on the fresh one, the
// event recorded — and the hung handler is closed only once it returns.
func TestHungHandlerIsReplaced(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
	var h handled
	var closed atomic.Int32
	hang := make(chan struct{})
	var made atomic.Int32
	rt.MustSpawn(caxton.AgentSpec{Name: "stuck",
		Delivery: caxton.DeliveryPolicy{Timeout: time.Second},
		NewHandler: func(_ context.Context, info caxton.InstanceInfo) (caxton.Handler, error) {
			c := &closingHandler{closed: &closed, h: &h, info: info}
			if made.Add(1) == 1 {
				c.hang = hang // the first instance hangs
			}
			return c, nil
		}})
	rt.MustSend(lcMsg("stuck", "job"))
	rt.AdvanceWhenWaiting(1, time.Second)         // the attempt's timeout
	rt.AdvanceWhenWaiting(1, 10*time.Millisecond) // the replacement's backoff
	rt.AdvanceWhenWaiting(1, 10*time.Millisecond) // the retry's backoff
	caxtontest.Eventually(t, func() bool { return h.len() == 1 }, "the retry handled")
	assert.Equal(t, []handledRec{{content: "job", replica: 0, version: "1"}}, h.snapshot())
	assert.Zero(t, closed.Load(), "the hung handler is not closed under itself")
	info := lcInfo(t, rt, "stuck")
	assert.Equal(t, uint64(1), info.Restarts)
	assert.Contains(t, info.LastError, "handler still running after 1s")

	close(hang)
	caxtontest.Eventually(t, func() bool { return closed.Load() == 1 }, "the hung handler closed once it returned")
	es := eventsUntil(t, events, caxton.EventRestarted)
	assert.Contains(t, kinds(es), caxton.EventHung)
	caxtontest.Eventually(t, func() bool { return h.len() == 2 }, "the hung attempt finishing late")
}

// The hung error is typed.
func TestHungErrorWraps(t *testing.T) {
	err := error(&caxton.HungError{Agent: "a", Timeout: time.Second})
	assert.ErrorIs(t, err, caxton.ErrHungHandler)
	assert.ErrorIs(t, err, caxton.ErrInstanceBroken)
}

// A receiver that keeps failing opens its breaker: sends are refused with
// ErrCircuitOpen for the cool-down, then one trial decides.
func TestCircuitBreakerOpensAndCloses(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
	var failing atomic.Bool
	failing.Store(true)
	var handledN atomic.Int32
	rt.MustSpawn(caxton.AgentSpec{Name: "flaky",
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 1},
		Breaker:  caxton.BreakerPolicy{Failures: 3, Cooldown: 10 * time.Second},
		Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
			handledN.Add(1)
			if failing.Load() {
				return errors.New("down")
			}
			return nil
		})})
	for i := range 3 {
		rt.MustSend(lcMsg("flaky", strconv.Itoa(i)))
	}
	rt.AwaitDeadLetters(3)
	assert.Equal(t, caxton.BreakerOpen, lcInfo(t, rt, "flaky").Breaker)
	err := rt.Send(ctx, lcMsg("flaky", "refused"))
	require.ErrorIs(t, err, caxton.ErrCircuitOpen)
	var de *caxton.DeliveryError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, caxton.Degraded, rt.Health(ctx).Status)

	rt.Clock.Advance(10 * time.Second)
	assert.Equal(t, caxton.BreakerHalfOpen, lcInfo(t, rt, "flaky").Breaker)
	rt.MustSend(lcMsg("flaky", "trial fails"))
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "flaky").Breaker == caxton.BreakerOpen }, "open again")
	rt.Clock.Advance(10 * time.Second)
	failing.Store(false)
	rt.MustSend(lcMsg("flaky", "trial passes"))
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "flaky").Breaker == caxton.BreakerClosed }, "closed")
	assert.Equal(t, []caxton.EventKind{caxton.EventCircuitOpen, caxton.EventCircuitHalfOpen, caxton.EventCircuitOpen, caxton.EventCircuitHalfOpen, caxton.EventCircuitClosed},
		onlyCircuit(eventsUntil(t, events, caxton.EventCircuitClosed)))
	assert.Equal(t, caxton.Healthy, rt.Health(ctx).Status)
}

func onlyCircuit(es []caxton.Event) []caxton.EventKind {
	var out []caxton.EventKind
	for _, e := range es {
		switch e.Kind {
		case caxton.EventCircuitOpen, caxton.EventCircuitHalfOpen, caxton.EventCircuitClosed:
			out = append(out, e.Kind)
		}
	}
	return out
}

// probed answers health probes as told, per replica.
type probed struct {
	mu   *sync.Mutex
	sick map[int]error
	rep  int
}

func (p probed) HandleMessage(context.Context, *caxton.MessageContext) error { return nil }
func (p probed) CheckHealth(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sick[p.rep]
}

// Health grades each agent by its state and its instances' probes.
func TestHealthGradesAgents(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	var mu sync.Mutex
	sick := map[int]error{}
	rt.MustSpawn(caxton.AgentSpec{Name: "db", Replicas: 2, NewHandler: func(_ context.Context, info caxton.InstanceInfo) (caxton.Handler, error) {
		return probed{mu: &mu, sick: sick, rep: info.Replica}, nil
	}})
	rt.MustSpawn(caxton.AgentSpec{Name: "paused", Handler: lcNop()})
	require.NoError(t, rt.Stop(ctx, "paused"))

	rep := rt.Health(ctx)
	assert.Equal(t, caxton.Down, rep.Status)
	assert.Equal(t, []caxton.AgentHealth{
		{Agent: "db", Status: caxton.Healthy},
		{Agent: "paused", Status: caxton.Down, Reasons: []string{"stopped"}},
	}, rep.Agents)
	require.NoError(t, rt.Remove(ctx, "paused"))

	mu.Lock()
	sick[1] = errors.New("connection refused")
	mu.Unlock()
	rep = rt.Health(ctx)
	assert.Equal(t, caxton.Degraded, rep.Status)
	assert.Equal(t, []string{"replica 1: connection refused"}, rep.Agents[0].Reasons)

	mu.Lock()
	sick[0] = errors.New("connection refused")
	mu.Unlock()
	assert.Equal(t, caxton.Down, rt.Health(ctx).Status)
	assert.Equal(t, "down", caxton.Down.String())
}

// A lazy agent's handlers are made by its first message, not at Spawn.
func TestLazyAgentStartsOnFirstMessage(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	var made atomic.Int32
	var h handled
	rt.MustSpawn(caxton.AgentSpec{Name: "sleepy", Lazy: true, Replicas: 2, Balance: caxton.BalanceRoundRobin,
		NewHandler: func(ctx context.Context, info caxton.InstanceInfo) (caxton.Handler, error) {
			made.Add(1)
			return answering(&h, nil)(ctx, info)
		}})
	assert.Zero(t, made.Load(), "nothing made at Spawn")
	rt.MustSend(lcMsg("sleepy", "wake"))
	caxtontest.Eventually(t, func() bool { return h.len() == 1 }, "handled")
	assert.Equal(t, int32(1), made.Load(), "only the instance that got a message")
	rt.MustSend(lcMsg("sleepy", "again"))
	rt.MustSend(lcMsg("sleepy", "and again"))
	caxtontest.Eventually(t, func() bool { return h.len() == 3 }, "handled")
	assert.Equal(t, int32(2), made.Load())
}

// With WithHealthProbe the runtime probes on its clock and reports changes
// of grade as events.
func TestHealthProbeReportsChanges(t *testing.T) {
	rt := caxtontest.NewRuntime(t, caxton.WithHealthProbe(time.Second))
	events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
	var mu sync.Mutex
	sick := map[int]error{}
	rt.MustSpawn(caxton.AgentSpec{Name: "db", NewHandler: func(_ context.Context, info caxton.InstanceInfo) (caxton.Handler, error) {
		return probed{mu: &mu, sick: sick, rep: info.Replica}, nil
	}})
	rt.AdvanceWhenWaiting(1, time.Second) // healthy: nothing to report
	mu.Lock()
	sick[0] = errors.New("disk full")
	mu.Unlock()
	rt.AdvanceWhenWaiting(1, time.Second)
	es := eventsUntil(t, events, caxton.EventUnhealthy)
	assert.Equal(t, "replica 0: disk full", es[len(es)-1].Detail)
	mu.Lock()
	delete(sick, 0)
	mu.Unlock()
	rt.AdvanceWhenWaiting(1, time.Second)
	es = eventsUntil(t, events, caxton.EventHealthy)
	assert.Equal(t, []caxton.EventKind{caxton.EventHealthy}, kinds(es))

	var se *caxton.SpecError
	_, err := caxton.New(caxton.WithHealthProbe(0))
	require.ErrorAs(t, err, &se)
}
