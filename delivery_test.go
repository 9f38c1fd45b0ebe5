package caxton_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMessagesToOneInstanceAreHandledInOrder(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "sink")
	const n = 2000
	want := make([]string, n)
	for i := range n {
		want[i] = strconv.Itoa(i)
		rt.MustSend(inform(want[i], "sink"))
	}
	assert.Equal(t, want, contents(rec.AwaitN(t, n)))
}

func TestHigherPriorityIsHandledFirst(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "sink")
	ctx := caxtontest.Context(t)
	require.NoError(t, rt.Stop(ctx, "sink"))
	for _, p := range []acl.Priority{acl.PriorityLow, acl.PriorityNormal, acl.PriorityHigh, acl.PriorityNormal, acl.PriorityLow, acl.PriorityHigh} {
		m := inform(p.String(), "sink")
		m.Priority = p
		rt.MustSend(m)
	}
	require.NoError(t, rt.Start(ctx, "sink"))
	assert.Equal(t, []string{"high", "high", "normal", "normal", "low", "low"}, contents(rec.AwaitN(t, 6)))
}

func TestFullMailboxRejectPolicy(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	caxtontest.NewRecorder(t, rt.Runtime, "sink", caxtontest.RecorderSpec(func(s *caxton.AgentSpec) {
		s.MailboxCapacity, s.Overflow = 2, caxton.OverflowReject
	}))
	require.NoError(t, rt.Stop(caxtontest.Context(t), "sink"))
	rt.MustSend(inform("1", "sink"))
	rt.MustSend(inform("2", "sink"))
	err := rt.Send(caxtontest.Context(t), inform("3", "sink"))
	require.ErrorIs(t, err, caxton.ErrMailboxFull)
	var de *caxton.DeliveryError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, acl.AgentID("sink"), de.Receiver)
	assert.Equal(t, 2, must(rt.Agent("sink")).QueueDepth)
}

func TestFullMailboxBlockPolicyWaitsForSpace(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "sink", caxtontest.RecorderSpec(func(s *caxton.AgentSpec) { s.MailboxCapacity = 1 }))
	ctx := caxtontest.Context(t)
	require.NoError(t, rt.Stop(ctx, "sink"))
	rt.MustSend(inform("1", "sink"))

	// A blocked send gives up when its context ends.
	cctx, cancel := context.WithCancel(ctx)
	blocked := make(chan error, 1)
	go func() { blocked <- rt.Send(cctx, inform("never", "sink")) }()
	cancel()
	require.ErrorIs(t, <-blocked, context.Canceled)

	// Another waits until the agent makes room.
	sent := make(chan error, 1)
	go func() { sent <- rt.Send(ctx, inform("2", "sink")) }()
	require.NoError(t, rt.Start(ctx, "sink"))
	require.NoError(t, <-sent)
	assert.Equal(t, []string{"1", "2"}, contents(rec.AwaitN(t, 2)))
}

// flaky fails its first n attempts of every message, then succeeds.
func flaky(n int, attempts *[]int) caxton.Handler {
	return caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		*attempts = append(*attempts, mc.Attempt())
		if mc.Attempt() <= n {
			return errors.New("flaky " + strconv.Itoa(mc.Attempt()))
		}
		return nil
	})
}

func TestFailedMessageIsRetriedWithExponentialBackoff(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	var attempts []int
	rt.MustSpawn(caxton.AgentSpec{Name: "flaky", Handler: flaky(2, &attempts),
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 5, Backoff: caxton.Backoff{Initial: 10 * time.Millisecond, Multiplier: 3, Max: time.Second}}})
	rt.MustSend(inform("x", "flaky"))

	start := rt.Clock.Now()
	rt.AdvanceWhenWaiting(1, 9*time.Millisecond)
	assert.Equal(t, 1, rt.Clock.Pending(), "not due before the first backoff (10ms)")
	rt.Clock.Advance(time.Millisecond)
	rt.AdvanceWhenWaiting(1, 30*time.Millisecond) // second backoff: 10ms × 3
	caxtontest.Eventually(t, func() bool { return must(rt.Agent("flaky")).Processed == 1 }, "the third attempt to succeed")

	info := must(rt.Agent("flaky"))
	assert.Equal(t, []int{1, 2, 3}, attempts)
	assert.Equal(t, uint64(2), info.Failed)
	assert.Equal(t, uint64(2), info.Retried)
	assert.Equal(t, uint64(0), info.DeadLettered)
	assert.Equal(t, "flaky 2", info.LastError)
	assert.Equal(t, 40*time.Millisecond, rt.Clock.Now().Sub(start))
}

func TestBackoffDelays(t *testing.T) {
	b := caxton.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Multiplier: 2}
	var got []time.Duration
	for n := 1; n <= 5; n++ {
		got = append(got, b.Delay(n))
	}
	assert.Equal(t, []time.Duration{10, 20, 40, 50, 50}, scaleMs(got))
}

func scaleMs(ds []time.Duration) []time.Duration {
	for i := range ds {
		ds[i] /= time.Millisecond
	}
	return ds
}

// failsUntilFixed fails every message with reason until fixed is set, then
// reports "handled <content>" to out.
func failsUntilFixed(fixed *atomic.Bool, reason string, out acl.AgentID) caxton.Handler {
	return caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if !fixed.Load() {
			return errors.New(reason)
		}
		return mc.Send(ctx, inform("handled "+string(mc.Message().Content), out))
	})
}

func TestDeadLetterAfterMaxAttemptsThenReplayAndPurge(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	var fixed atomic.Bool
	rec := caxtontest.NewRecorder(t, rt.Runtime, "ok")
	rt.MustSpawn(caxton.AgentSpec{Name: "picky", Delivery: caxton.DeliveryPolicy{MaxAttempts: 2},
		Handler: failsUntilFixed(&fixed, "database down", "ok")})
	m := inform("order-1", "picky")
	rt.MustSend(m)
	rt.AdvanceWhenWaiting(1, time.Second)
	dls := rt.AwaitDeadLetters(1)
	d := dls[0]
	assert.Same(t, m, d.Message)
	assert.Equal(t, acl.AgentID("picky"), d.Receiver)
	assert.Equal(t, "max attempts", d.Reason)
	assert.Equal(t, 2, d.Attempts)
	assert.Equal(t, "database down", d.LastError)
	assert.Equal(t, rt.Clock.Now(), d.At)
	assert.Equal(t, uint64(1), must(rt.Agent("picky")).DeadLettered)

	ctx := caxtontest.Context(t)
	err := rt.ReplayDeadLetters(ctx, "no-such-id")
	assert.ErrorIs(t, err, caxton.ErrDeadLetterNotFound)
	fixed.Store(true)
	require.NoError(t, rt.ReplayDeadLetters(ctx, d.ID))
	assert.Equal(t, "handled order-1", string(rec.Await(t, nil).Content))
	assert.Empty(t, must(rt.DeadLetters(context.Background())))

	// Purge: one by id, then all.
	fixed.Store(false)
	rt.MustSend(inform("order-2", "picky"))
	rt.MustSend(inform("order-3", "picky"))
	rt.AdvanceWhenWaiting(1, time.Second)
	rt.AdvanceWhenWaiting(1, time.Second)
	dls = rt.AwaitDeadLetters(2)
	n, err := rt.PurgeDeadLetters(context.Background(), dls[0].ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = rt.PurgeDeadLetters(context.Background(), dls[0].ID)
	assert.ErrorIs(t, err, caxton.ErrDeadLetterNotFound)
	assert.Equal(t, 0, n)
	ended, cancel := context.WithCancel(ctx)
	cancel()
	_, err = rt.DeadLetters(ended)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = rt.PurgeDeadLetters(ended)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, must(rt.DeadLetters(ctx)), 1, "nothing purged under an ended context")
	n, err = rt.PurgeDeadLetters(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Empty(t, must(rt.DeadLetters(ctx)))
}

// Purging is a decision like replaying: an identity in the context is
// asked about (ActionPurge), refused with a *DeniedError, and audited.
func TestPurgeDeadLettersIsAuthorized(t *testing.T) {
	rt := caxtontest.NewRuntime(t, caxton.WithAuthorizer(caxton.AuthorizerFunc(func(_ context.Context, req caxton.AuthzRequest) error {
		if req.Action == caxton.ActionPurge && req.Subject.Name == "intern" {
			return errors.New("interns may not purge")
		}
		return nil
	})))
	rt.MustSpawn(caxton.AgentSpec{Name: "broken", Delivery: caxton.DeliveryPolicy{MaxAttempts: 1},
		Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { return errors.New("no") })})
	rt.MustSend(inform("x", "broken"))
	dls := rt.AwaitDeadLetters(1)

	ctx := caxtontest.Context(t)
	_, err := rt.PurgeDeadLetters(caxton.WithIdentity(ctx, caxton.Identity{Name: "intern"}), dls[0].ID)
	var denied *caxton.DeniedError
	require.ErrorAs(t, err, &denied)
	assert.Equal(t, caxton.ActionPurge, denied.Request.Action)
	assert.Len(t, must(rt.DeadLetters(ctx)), 1)

	n, err := rt.PurgeDeadLetters(caxton.WithIdentity(ctx, caxton.Identity{Name: "operator"}), dls[0].ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestReplayClearsAPassedReplyBy(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	var fixed atomic.Bool
	rec := caxtontest.NewRecorder(t, rt.Runtime, "ok")
	rt.MustSpawn(caxton.AgentSpec{Name: "late", Delivery: caxton.DeliveryPolicy{MaxAttempts: 1},
		Handler: failsUntilFixed(&fixed, "not yet", "ok")})
	m := inform("x", "late")
	m.ReplyBy = rt.Clock.Now().Add(time.Minute)
	rt.MustSend(m)
	d := rt.AwaitDeadLetters(1)[0]
	rt.Clock.Advance(time.Hour)
	fixed.Store(true)
	require.NoError(t, rt.ReplayDeadLetters(caxtontest.Context(t), d.ID))
	rec.Await(t, nil)
}

func TestPanickingHandlerIsRecoveredAndRetried(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "out")
	rt.MustSpawn(caxton.AgentSpec{Name: "shaky", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if mc.Attempt() == 1 {
			panic("boom")
		}
		return mc.Send(ctx, inform(string(mc.Message().Content), "out"))
	})})
	rt.MustSend(inform("a", "shaky"))
	rt.AdvanceWhenWaiting(1, time.Second)
	rec.Await(t, nil)
	rt.MustSend(inform("b", "shaky"))
	rt.AdvanceWhenWaiting(1, time.Second)
	assert.Equal(t, []string{"a", "b"}, contents(rec.AwaitN(t, 2)), "the agent keeps serving")
	info := must(rt.Agent("shaky"))
	assert.Equal(t, uint64(2), info.Failed)
	assert.Contains(t, info.LastError, "panicked: boom")
}

func TestPermanentErrorSkipsRetries(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	cause := errors.New("malformed order")
	rt.MustSpawn(caxton.AgentSpec{Name: "strict", Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
		return caxton.Permanent(cause)
	})})
	rt.MustSend(inform("x", "strict"))
	d := rt.AwaitDeadLetters(1)[0]
	assert.Equal(t, 1, d.Attempts)
	assert.Equal(t, "permanent failure", d.Reason)
	assert.ErrorIs(t, caxton.Permanent(cause), cause)
	assert.ErrorIs(t, caxton.Permanent(cause), caxton.ErrPermanent)
	assert.NoError(t, caxton.Permanent(nil))
}

// AllDeadLetters yields what DeadLetters lists, without loading the queue
// whole, with the default store and a store that only lists.
func TestAllDeadLettersScansTheQueue(t *testing.T) {
	for name, st := range map[string]store.Store{"memory": store.NewMemory(), "list only": listOnlyStore{store.NewMemory()}} {
		t.Run(name, func(t *testing.T) {
			rt := caxtontest.NewRuntime(t, caxton.WithStore(st))
			rt.MustSpawn(caxton.AgentSpec{Name: "refuser", Delivery: caxton.DeliveryPolicy{MaxAttempts: 1},
				Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { return errors.New("no") })})
			for i := range 3 {
				rt.MustSend(inform(fmt.Sprint("order-", i), "refuser"))
			}
			want := rt.AwaitDeadLetters(3)
			var got []caxton.DeadLetter
			for d, err := range rt.AllDeadLetters(caxtontest.Context(t)) {
				require.NoError(t, err)
				got = append(got, d)
			}
			assert.Equal(t, want, got)

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var errs []error
			for _, err := range rt.AllDeadLetters(ctx) {
				errs = append(errs, err)
			}
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], context.Canceled)
		})
	}
}

// listOnlyStore hides the dead-letter queue's iterator.
type listOnlyStore struct{ *store.Memory }

func (s listOnlyStore) DeadLetters() store.DeadLetterQueue {
	return struct{ store.DeadLetterQueue }{s.Memory.DeadLetters()}
}
