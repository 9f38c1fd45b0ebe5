package caxtontest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTB records failures instead of ending the test, so the helpers'
// failure paths can be checked.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	failures []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
	f.mu.Unlock()
	panic(f) // stands in for runtime.Goexit
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func (f *fakeTB) run(fn func()) (failed string) {
	defer func() {
		if r := recover(); r != nil && r != any(f) {
			panic(r)
		}
		if len(f.failures) > 0 {
			failed = f.failures[0]
		}
	}()
	fn()
	return ""
}

func TestRecorderCapturesAndReplies(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "peer", caxtontest.RecorderReply(func(in *acl.Message) *acl.Message {
		r := in.CreateReply(acl.Agree)
		r.Content = append([]byte("ok: "), in.Content...)
		return r
	}))
	assert.Equal(t, acl.AgentID("peer"), rec.Name())
	reply := rt.MustRequest(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"peer"}, Content: []byte("x")})
	assert.Equal(t, "ok: x", string(reply.Content))
	assert.Equal(t, 1, rec.Len())
	assert.Equal(t, "x", string(rec.Messages()[0].Content))
}

func TestRecorderAwaitFailsWithWhatArrived(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "peer")
	rt.MustSend(&acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"peer"}, Content: []byte("only this")})
	rec.Await(t, nil)
	ft := &fakeTB{TB: t}
	failed := ft.run(func() { rec.AwaitWithin(ft, 20*time.Millisecond, acl.MatchPerformative(acl.Refuse)) })
	assert.Contains(t, failed, `recorder "peer": no matching message`)
	assert.Contains(t, failed, "inform from=host to=peer")
}

func TestEventuallyFailsWithDescription(t *testing.T) {
	ft := &fakeTB{TB: t}
	failed := ft.run(func() {
		caxtontest.EventuallyWithin(ft, 20*time.Millisecond, func() bool { return false }, "the %s", "impossible")
	})
	assert.Contains(t, failed, "waiting for the impossible")
}

func TestNewRuntimeClosesAtCleanupAndUsesFakeClock(t *testing.T) {
	ft := &fakeTB{TB: t}
	rt := caxtontest.NewRuntime(ft)
	start := rt.Clock.Now()
	rt.Clock.Advance(time.Hour)
	assert.Equal(t, start.Add(time.Hour), rt.Runtime.Clock().Now())
	require.Len(t, ft.cleanups, 1)
	ft.cleanups[0]()
	assert.ErrorIs(t, rt.Send(context.Background(), acl.New(acl.Inform, "x")), caxton.ErrClosed)
	assert.Empty(t, ft.failures)
}

func TestAdvanceWhenWaitingStepsRetries(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	done := caxtontest.NewRecorder(t, rt.Runtime, "done")
	rt.MustSpawn(caxton.AgentSpec{Name: "flaky", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if mc.Attempt() == 1 {
			return fmt.Errorf("first try fails")
		}
		return mc.Send(ctx, acl.New(acl.Inform, "done"))
	})})
	rt.MustSend(acl.New(acl.Request, "flaky"))
	rt.AdvanceWhenWaiting(1, time.Second)
	done.Await(t, nil)
	dls := rt.AwaitDeadLetters(0)
	assert.Empty(t, dls)
}

// The package documentation's examples, run for real (the Example functions
// show them as test bodies and are only compiled).
func TestPackageExample(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	customer := caxtontest.NewRecorder(t, rt.Runtime, "customer")
	rt.MustSpawn(caxton.AgentSpec{Name: "billing", Handler: billing})
	rt.MustSend(&acl.Message{Performative: acl.Request, Sender: customer.Name(),
		Receivers: []acl.AgentID{"billing"}, Content: []byte("refund?")})
	got := customer.Await(t, acl.MatchPerformative(acl.Inform))
	assert.Equal(t, "your refund was issued today", string(got.Content))
	assert.Equal(t, acl.AgentID("billing"), got.Sender)
	assert.Zero(t, rt.Inbox().Len(), "the reply went to the recorder, not the host")
}

func TestExampleRetryOnTheFakeClock(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	attempts := 0
	rt.MustSpawn(caxton.AgentSpec{Name: "flaky",
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 2, Backoff: caxton.Backoff{Initial: time.Minute}},
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			attempts++
			if attempts == 1 {
				return context.DeadlineExceeded
			}
			return mc.Reply(ctx, acl.Inform, nil)
		})})
	rt.MustSend(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"flaky"}})
	rt.AdvanceWhenWaiting(1, time.Minute)
	caxtontest.AwaitInbox(t, rt.Inbox(), acl.MatchPerformative(acl.Inform))
	assert.Equal(t, 2, attempts)

	reply := rt.MustRequest(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"flaky"}})
	assert.Equal(t, acl.Inform, reply.Performative)
}

func TestSpawnContextOutlastsTheDefaultTimeoutAndEndsWithTheTest(t *testing.T) {
	var ctx context.Context
	t.Run("inner", func(t *testing.T) {
		ctx = caxtontest.SpawnContext(t)
		dl, ok := ctx.Deadline()
		require.True(t, ok)
		assert.Greater(t, time.Until(dl), caxtontest.DefaultTimeout, "a compilation on a cold machine may take longer than a conversation")
		assert.NoError(t, ctx.Err())
	})
	assert.ErrorIs(t, ctx.Err(), context.Canceled, "cancelled when its test ended")
}
