package caxton_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answering is the code of one version: it records each message and
// answers a request with its version and replica.
func answering(h *handled, fail func(*acl.Message) error) func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) {
	return func(_ context.Context, info caxton.InstanceInfo) (caxton.Handler, error) {
		return caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			if fail != nil {
				if err := fail(mc.Message()); err != nil {
					return err
				}
			}
			h.add(handledRec{content: string(mc.Message().Content), replica: info.Replica, version: info.Version})
			if mc.Message().Performative == acl.Request {
				return mc.Reply(ctx, acl.Inform, []byte(info.Version))
			}
			return nil
		}), nil
	}
}

func ask(t *testing.T, rt *caxtontest.Runtime, to acl.AgentID) string {
	t.Helper()
	return string(rt.MustRequest(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{to}}).Content)
}

// eventsOf collects the kinds of events until (and with) the first of kind
// last.
func eventsUntil(t *testing.T, ch <-chan caxton.Event, last caxton.EventKind) []caxton.Event {
	t.Helper()
	var out []caxton.Event
	for {
		e := nextEvent(t, ch)
		out = append(out, e)
		if e.Kind == last {
			return out
		}
	}
}

func kinds(es []caxton.Event) []caxton.EventKind {
	out := make([]caxton.EventKind, len(es))
	for i, e := range es {
		out[i] = e.Kind
	}
	return out
}

// Blue-green: the new version is made beside the old, takes every message
// at once, and the old retires; Rollback returns to the old version.
func TestUpgradeBlueGreenThenRollback(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	var h handled
	rt.MustSpawn(caxton.AgentSpec{Name: "svc", Replicas: 2, NewHandler: answering(&h, nil)})
	events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
	assert.Equal(t, "v1", ask(t, rt, "svc"))

	require.NoError(t, rt.Upgrade(ctx, "svc", caxton.AgentSpec{Version: "2.0", NewHandler: answering(&h, nil)}, caxton.Strategy{}))
	assert.Equal(t, "2.0", ask(t, rt, "svc"))
	info := lcInfo(t, rt, "svc")
	assert.Equal(t, "2.0", info.Version)
	assert.Equal(t, "v1", info.Previous)
	assert.Nil(t, info.Rollout)
	assert.Equal(t, 2, info.Replicas)
	assert.Equal(t, []caxton.EventKind{caxton.EventUpgradeStarted, caxton.EventUpgradeStep, caxton.EventUpgradePromoted},
		kinds(eventsUntil(t, events, caxton.EventUpgradePromoted)))

	require.NoError(t, rt.Rollback(ctx, "svc"))
	assert.Equal(t, "v1", ask(t, rt, "svc"))
	assert.Equal(t, "v1", lcInfo(t, rt, "svc").Version)
	assert.Equal(t, "2.0", lcInfo(t, rt, "svc").Previous)
}

// A canary takes its share of new conversations (or of messages outside
// any) at each step; a conversation stays on the version that took its
// first message, across steps.
func TestUpgradeCanarySteps(t *testing.T) {
	for _, convs := range []bool{false, true} {
		t.Run(fmt.Sprintf("conversations=%v", convs), func(t *testing.T) {
			rt := caxtontest.NewRuntime(t)
			ctx := caxtontest.Context(t)
			var h handled
			rt.MustSpawn(caxton.AgentSpec{Name: "cy", NewHandler: answering(&h, nil)})
			events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
			done := make(chan error, 1)
			go func() {
				done <- rt.Upgrade(ctx, "cy", caxton.AgentSpec{NewHandler: answering(&h, nil)},
					caxton.Strategy{Kind: caxton.Canary, Steps: []int{10, 50}, StepEvery: time.Minute})
			}()
			const n, per = 200, 5
			versionOf := map[string]string{} // conversation → version, across rounds
			round := func(tag string) map[string]int {
				before := h.len()
				for c := range n {
					for i := range per {
						m := lcMsg("cy", fmt.Sprintf("%s-%d/%d", tag, c, i))
						if convs {
							m.ConversationID = fmt.Sprintf("%s-%d", tag, c)
						}
						rt.MustSend(m)
					}
				}
				caxtontest.Eventually(t, func() bool { return h.len() == before+n*per }, "the round handled")
				got := map[string]int{}
				for _, r := range h.snapshot()[before:] {
					got[r.version]++
					conv, _, ok := strings.Cut(r.content, "/")
					require.True(t, ok)
					if prev, seen := versionOf[conv]; seen && convs {
						require.Equal(t, prev, r.version, "conversation %s answered by two versions", conv)
					}
					versionOf[conv] = r.version
				}
				return got
			}
			eventsUntil(t, events, caxton.EventUpgradeStep)
			got := round("a")
			assert.InDelta(t, 100, got["v2"], 60, "10%% of 1000: %v", got)
			rt.AdvanceWhenWaiting(1, time.Minute)
			eventsUntil(t, events, caxton.EventUpgradeStep)
			assert.Equal(t, 50, lcInfo(t, rt, "cy").Rollout.Share)
			got = round("b")
			assert.InDelta(t, 500, got["v2"], 150, "50%% of 1000: %v", got)
			if convs {
				round("a") // the first step's conversations keep their versions
			}
			rt.AdvanceWhenWaiting(1, time.Minute)
			require.NoError(t, <-done)
			clear(versionOf)
			got = round("c")
			assert.Equal(t, map[string]int{"v2": n * per}, got)
		})
	}
}

// Rolling: the instances move one at a time.
func TestUpgradeRolling(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	var h handled
	rt.MustSpawn(caxton.AgentSpec{Name: "roll", Replicas: 3, Balance: caxton.BalanceRoundRobin, NewHandler: answering(&h, nil)})
	events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
	done := make(chan error, 1)
	go func() {
		done <- rt.Upgrade(ctx, "roll", caxton.AgentSpec{NewHandler: answering(&h, nil)}, caxton.Strategy{Kind: caxton.Rolling, StepEvery: time.Minute})
	}()
	versions := func() map[int]string {
		before := h.len()
		for i := range 3 {
			rt.MustSend(lcMsg("roll", strconv.Itoa(i)))
		}
		caxtontest.Eventually(t, func() bool { return h.len() == before+3 }, "3 handled")
		out := map[int]string{}
		for _, r := range h.snapshot()[before:] {
			out[r.replica] = r.version
		}
		return out
	}
	eventsUntil(t, events, caxton.EventUpgradeStep)
	assert.Equal(t, map[int]string{0: "v2", 1: "v1", 2: "v1"}, versions())
	rt.AdvanceWhenWaiting(1, time.Minute)
	eventsUntil(t, events, caxton.EventUpgradeStep)
	assert.Equal(t, map[int]string{0: "v2", 1: "v2", 2: "v1"}, versions())
	rt.AdvanceWhenWaiting(1, time.Minute)
	require.NoError(t, <-done)
	assert.Equal(t, map[int]string{0: "v2", 1: "v2", 2: "v2"}, versions())
}

// Automatic rollback: a new version that fails, crashes or is slow is
// rolled back, and every message it failed is handled by the old version —
// nothing is dead-lettered or lost.
func TestUpgradeRollsBackAutomatically(t *testing.T) {
	cases := []struct {
		name   string
		policy caxton.RollbackPolicy
		bad    func(clk func(time.Duration)) func(*acl.Message) error
		reason string
	}{
		{"error rate", caxton.RollbackPolicy{MaxErrorRate: 0.2, MinMessages: 5},
			func(func(time.Duration)) func(*acl.Message) error {
				return func(*acl.Message) error { return errors.New("v2 is broken") }
			}, "error rate 100.0% over 5 messages exceeds 20.0%"},
		{"crash", caxton.RollbackPolicy{},
			func(func(time.Duration)) func(*acl.Message) error {
				return func(*acl.Message) error { panic("v2 crashed") }
			}, "the new version crashed (1)"},
		{"latency", caxton.RollbackPolicy{MaxLatency: 10 * time.Millisecond, MinMessages: 3},
			func(advance func(time.Duration)) func(*acl.Message) error {
				return func(*acl.Message) error { advance(50 * time.Millisecond); return nil }
			}, "mean handling time 50ms over 3 messages exceeds 10ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := caxtontest.NewRuntime(t)
			ctx := caxtontest.Context(t)
			var h handled
			rt.MustSpawn(caxton.AgentSpec{Name: "risky", NewHandler: answering(&h, nil)})
			done := make(chan error, 1)
			go func() {
				done <- rt.Upgrade(ctx, "risky", caxton.AgentSpec{NewHandler: answering(&h, tc.bad(rt.Clock.Advance))},
					caxton.Strategy{Watch: time.Hour, Rollback: tc.policy})
			}()
			caxtontest.Eventually(t, func() bool {
				info := lcInfo(t, rt, "risky")
				return info.Rollout != nil && info.Rollout.Share == 100
			}, "the switch")
			const n = 20
			for i := range n {
				rt.MustSend(lcMsg("risky", strconv.Itoa(i)))
			}
			err := <-done
			var rb *caxton.RollbackError
			require.ErrorAs(t, err, &rb)
			require.ErrorIs(t, err, caxton.ErrRolledBack)
			assert.Contains(t, rb.Reason, tc.reason)
			assert.Equal(t, "v1", rb.From)
			assert.Equal(t, "v2", rb.To)

			caxtontest.Eventually(t, func() bool { return h.len() == n }, "every message handled")
			seen := map[string]bool{}
			for _, r := range h.snapshot() {
				assert.False(t, seen[r.content], "message %s handled twice", r.content)
				seen[r.content] = true
			}
			info := lcInfo(t, rt, "risky")
			assert.Equal(t, "v1", info.Version)
			assert.Nil(t, info.Rollout)
			// counted after the handler returned: it may trail the record a moment
			caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "risky").Processed == uint64(n) }, "%d messages counted as processed", n)
			assert.Zero(t, info.DeadLettered)
		})
	}
}

// A new version that cannot start changes nothing; a manual Rollback and
// an ended context stop an upgrade in progress; one upgrade at a time.
func TestUpgradeRefusedAndCancelled(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	var h handled
	rt.MustSpawn(caxton.AgentSpec{Name: "steady", NewHandler: answering(&h, nil)})

	err := rt.Upgrade(ctx, "steady", caxton.AgentSpec{NewHandler: func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) {
		return nil, errors.New("no database")
	}}, caxton.Strategy{})
	require.ErrorIs(t, err, caxton.ErrRolledBack)
	assert.Contains(t, err.Error(), "no database")
	assert.Equal(t, "v1", ask(t, rt, "steady"))

	var se *caxton.SpecError
	require.ErrorAs(t, rt.Upgrade(ctx, "steady", caxton.AgentSpec{}, caxton.Strategy{}), &se)
	assert.Equal(t, "Handler", se.Field)
	require.ErrorAs(t, rt.Upgrade(ctx, "steady", caxton.AgentSpec{Handler: lcNop()}, caxton.Strategy{Kind: caxton.Canary, Steps: []int{50, 20}}), &se)
	assert.Equal(t, "Strategy.Steps[1]", se.Field)
	require.ErrorIs(t, rt.Rollback(ctx, "steady"), caxton.ErrNoPreviousVersion)

	long := caxton.Strategy{Kind: caxton.Canary, StepEvery: time.Hour}
	done := make(chan error, 1)
	go func() { done <- rt.Upgrade(ctx, "steady", caxton.AgentSpec{NewHandler: answering(&h, nil)}, long) }()
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "steady").Rollout != nil }, "the canary")
	require.ErrorIs(t, rt.Upgrade(ctx, "steady", caxton.AgentSpec{Handler: lcNop()}, caxton.Strategy{}), caxton.ErrUpgradeInProgress)
	require.ErrorIs(t, rt.Scale(ctx, "steady", 2), caxton.ErrUpgradeInProgress)
	require.NoError(t, rt.Rollback(ctx, "steady"))
	err = <-done
	require.ErrorIs(t, err, caxton.ErrRolledBack)
	assert.Contains(t, err.Error(), "rolled back by the host")

	cctx, cancel := context.WithCancel(ctx)
	go func() { done <- rt.Upgrade(cctx, "steady", caxton.AgentSpec{NewHandler: answering(&h, nil)}, long) }()
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "steady").Rollout != nil }, "the canary")
	cancel()
	err = <-done
	require.ErrorIs(t, err, caxton.ErrRolledBack)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "v1", ask(t, rt, "steady"))
}

// An upgrade under a steady stream of 100,000 messages loses none, with
// the in-memory store and a durable one (where at-least-once allows a
// message twice, never none).
func TestUpgradeUnderLoadLosesNothing(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "durable"}[durable], func(t *testing.T) {
			n := 100_000
			if durable && !testenv.Long() { // 100,000 fsynced sends take ~7 s: the long run does them
				n = 20_000
			}
			var rt *caxtontest.Runtime
			if durable {
				rt = durableRuntime(t, t.TempDir())
			} else {
				rt = caxtontest.NewRuntime(t)
			}
			// A safety net only: 100,000 durable sends take seconds.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var mu sync.Mutex
			seen := make(map[string]int, n)
			var byVersion [3]atomic.Int64
			counting := func(v int) func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) {
				return func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) {
					return caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
						mu.Lock()
						seen[string(mc.Message().Content)]++
						mu.Unlock()
						byVersion[v].Add(1)
						return nil
					}), nil
				}
			}
			rt.MustSpawn(caxton.AgentSpec{Name: "stream", Replicas: 2, NewHandler: counting(1)})
			// Many senders: a durable Send returns once its message is on
			// disk, and one fsync serves every sender waiting for it.
			const senders = 32
			sent := make(chan error, senders)
			for s := range senders {
				go func() {
					for i := s; i < n; i += senders {
						if err := rt.Send(ctx, lcMsg("stream", strconv.Itoa(i))); err != nil {
							sent <- err
							return
						}
					}
					sent <- nil
				}()
			}
			caxtontest.EventuallyWithin(t, 3*time.Minute, func() bool { return byVersion[1].Load() > int64(n/10) }, "the stream under way")
			require.NoError(t, rt.Upgrade(ctx, "stream", caxton.AgentSpec{NewHandler: counting(2)}, caxton.Strategy{}))
			for range senders {
				require.NoError(t, <-sent)
			}
			caxtontest.EventuallyWithin(t, 3*time.Minute, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(seen) == n
			}, "all %d messages handled", n)
			assert.Positive(t, byVersion[2].Load(), "the new version handled the rest")
			if !durable {
				mu.Lock()
				for k, c := range seen {
					if c != 1 {
						t.Fatalf("message %s handled %d times", k, c)
					}
				}
				mu.Unlock()
			}
			dls, err := rt.DeadLetters(context.Background())
			require.NoError(t, err)
			assert.Empty(t, dls)
		})
	}
}

// Stopping an agent ends its upgrade (rolled back); upgrading a stopped
// agent takes effect when it starts.
func TestUpgradeAndStop(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	var h handled
	rt.MustSpawn(caxton.AgentSpec{Name: "svc", NewHandler: answering(&h, nil)})
	done := make(chan error, 1)
	go func() {
		done <- rt.Upgrade(ctx, "svc", caxton.AgentSpec{NewHandler: answering(&h, nil)}, caxton.Strategy{Kind: caxton.Canary, StepEvery: time.Hour})
	}()
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "svc").Rollout != nil }, "the canary")
	require.NoError(t, rt.Stop(ctx, "svc"))
	err := <-done
	require.ErrorIs(t, err, caxton.ErrRolledBack)
	assert.Contains(t, err.Error(), "the agent was stopped")
	require.NoError(t, rt.Start(ctx, "svc"))
	assert.Equal(t, "v1", ask(t, rt, "svc"))

	require.NoError(t, rt.Stop(ctx, "svc"))
	require.NoError(t, rt.Upgrade(ctx, "svc", caxton.AgentSpec{Version: "v9", NewHandler: answering(&h, nil)}, caxton.Strategy{}))
	require.NoError(t, rt.Start(ctx, "svc"))
	assert.Equal(t, "v9", ask(t, rt, "svc"))
	assert.Equal(t, "v1", lcInfo(t, rt, "svc").Previous)
}
