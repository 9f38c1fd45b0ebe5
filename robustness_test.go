package caxton_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An agent that replies to everything must not ping-pong forever with the
// runtime's failure notices.
func TestRepliesToFailureNoticesDoNotLoop(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	var handled atomic.Int64
	rt.MustSpawn(caxton.AgentSpec{Name: "echo", Delivery: caxton.DeliveryPolicy{MaxAttempts: 1},
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			handled.Add(1)
			return mc.Reply(ctx, acl.Inform, mc.Message().Content)
		})})
	m := request("x", "echo")
	m.ReplyTo = "gone"
	rt.MustSend(m)
	// echo answers "gone" (unknown: its handler fails, and it gets a notice),
	// then answers the notice (addressed to the runtime: dead-lettered).
	rt.AwaitDeadLetters(2)
	require.NoError(t, rt.Close(caxtontest.Context(t)))
	assert.Equal(t, int64(2), handled.Load())
	dls, _ := rt.DeadLetters(context.Background())
	var reasons []string
	for _, d := range dls {
		reasons = append(reasons, d.Reason)
	}
	assert.ElementsMatch(t, []string{"max attempts", "addressed to the runtime's system name"}, reasons)
}

func TestCloseReleasesAPendingHostRequest(t *testing.T) {
	rt, err := caxton.New()
	require.NoError(t, err)
	received := make(chan struct{})
	require.NoError(t, rt.Spawn(context.Background(), caxton.AgentSpec{Name: "silent",
		Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { close(received); return nil })}))
	errc := make(chan error, 1)
	go func() {
		_, err := rt.Request(context.Background(), request("q", "silent"))
		errc <- err
	}()
	recvWithin(t, received) // the request is in flight and nobody will answer it
	require.NoError(t, rt.Close(caxtontest.Context(t)))
	assert.ErrorIs(t, recvWithin(t, errc), caxton.ErrClosed)
}

func TestCloseWithAnEndedContextOnAnIdleRuntimeSucceeds(t *testing.T) {
	rt, err := caxton.New()
	require.NoError(t, err)
	require.NoError(t, rt.Spawn(context.Background(), caxton.AgentSpec{Name: "a", Handler: echo()}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, rt.Close(ctx))
	_, err = rt.Agent("a")
	assert.ErrorIs(t, err, caxton.ErrClosed)
}

func TestSubscriptionCallbacksAreNotDirectlyAddressable(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	_, err := rt.SubscribeFunc("t", func(context.Context, *acl.Message) error { return nil })
	require.NoError(t, err)
	err = rt.Send(caxtontest.Context(t), inform("x", "$sub/t/1"))
	assert.Error(t, err)
}

func TestARequestIsNotItsOwnReply(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	m := request("to myself", rt.Inbox().Name())
	m.ReplyBy = rt.Clock.Now().Add(time.Second)
	errc := make(chan error, 1)
	go func() {
		_, err := rt.Request(caxtontest.Context(t), m)
		errc <- err
	}()
	caxtontest.AwaitInbox(t, rt.Inbox(), nil)
	rt.AdvanceWhenWaiting(1, time.Second)
	assert.ErrorIs(t, recvWithin(t, errc), caxton.ErrNoReply)
}

func TestRemoveRejectsANilContextWithoutRemoving(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "a", Handler: echo()})
	var nilCtx context.Context
	assert.ErrorIs(t, rt.Remove(nilCtx, "a"), caxton.ErrInvalidSpec)
	_, err := rt.Agent("a")
	assert.NoError(t, err)
}

func TestStopCancelsAStuckHandlersContext(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	started, cancelled := make(chan struct{}), make(chan struct{})
	rt.MustSpawn(caxton.AgentSpec{Name: "stuck", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	})})
	rt.MustSend(inform("x", "stuck"))
	recvWithin(t, started)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := rt.Stop(ctx, "stuck")
	assert.ErrorIs(t, err, context.Canceled)
	recvWithin(t, cancelled) // the handler was told to give up
	assert.Equal(t, caxton.StateStopped, must(rt.Agent("stuck")).State)
}

func TestOneBadMessageDoesNotSinkItsBatch(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "sink")
	// A batch handler that fails any batch containing "poison".
	rt.MustSpawn(caxton.AgentSpec{Name: "batcher", Delivery: caxton.DeliveryPolicy{MaxAttempts: 2},
		NewHandler: func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) { return poisonSensitive{}, nil }})
	ctx := caxtontest.Context(t)
	require.NoError(t, rt.Stop(ctx, "batcher"))
	for _, c := range []string{"a", "b", "poison", "c"} {
		rt.MustSend(inform(c, "batcher"))
	}
	require.NoError(t, rt.Start(ctx, "batcher"))
	rt.AdvanceWhenWaiting(1, time.Second) // the poison's retry backoff
	d := rt.AwaitDeadLetters(1)[0]
	assert.Equal(t, "poison", string(d.Message.Content))
	assert.Equal(t, 2, d.Attempts)
	assert.Equal(t, []string{"a", "b", "c"}, contents(rec.AwaitN(t, 3)))
	assert.Len(t, must(rt.DeadLetters(context.Background())), 1)
}

type poisonSensitive struct{}

func (poisonSensitive) HandleMessage(context.Context, *caxton.MessageContext) error {
	return errors.New("unused")
}

func (poisonSensitive) HandleBatch(_ context.Context, b *caxton.Batch) error {
	for _, m := range b.Messages {
		if string(m.Content) == "poison" {
			return errors.New("poisoned batch")
		}
	}
	for _, m := range b.Messages {
		b.Emit(&acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"sink"}, Content: m.Content})
	}
	return nil
}

func TestCloseInterruptsARunawayGuestEvenWhenItTimesOut(t *testing.T) {
	rt, err := caxton.New()
	require.NoError(t, err)
	require.NoError(t, rt.Spawn(context.Background(), caxton.AgentSpec{Name: "spin",
		Wasm: &caxton.WasmSpec{WAT: testguest.WATLoop}, Delivery: caxton.DeliveryPolicy{MaxAttempts: 1}}))
	require.NoError(t, rt.Send(context.Background(), inform("go", "spin")))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_ = rt.Close(ctx)
	// The guest's batch deadline (1s by default) still fires after Close
	// returned, so its worker exits and the message is accounted for (dead
	// letters stay readable after Close; agents are no longer listed).
	caxtontest.Eventually(t, func() bool { d, err := rt.DeadLetters(context.Background()); return err == nil && len(d) == 1 }, "the runaway batch to end")
	assert.Empty(t, rt.Agents())
}

func TestDeadLetterHookSeesEveryDeadLetter(t *testing.T) {
	var got []caxton.DeadLetter
	seen := make(chan struct{}, 4)
	rt := caxtontest.NewRuntime(t, caxton.WithDeadLetterHook(func(d caxton.DeadLetter) {
		got = append(got, d)
		seen <- struct{}{}
	}))
	rt.MustSpawn(caxton.AgentSpec{Name: "strict", Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
		return caxton.Permanent(errors.New("no"))
	})})
	rt.MustSend(inform("x", "strict"))
	recvWithin(t, seen)
	rt.MustSend(inform("y", acl.AgentID(rt.Inbox().Name()), "caxton"))
	recvWithin(t, seen)
	require.Len(t, got, 2)
	assert.Equal(t, "permanent failure", got[0].Reason)
	assert.Equal(t, acl.AgentID("caxton"), got[1].Receiver)
	_, err := caxton.New(caxton.WithDeadLetterHook(nil))
	assert.ErrorIs(t, err, caxton.ErrInvalidSpec)
}

func TestSendingToItselfNeverDeadlocks(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	errs := make(chan error, 10)
	rt.MustSpawn(caxton.AgentSpec{Name: "narcissus", MailboxCapacity: 2, Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if string(mc.Message().Content) == "go" {
			for range 5 {
				errs <- mc.Send(ctx, inform("me again", "narcissus"))
			}
		}
		return nil
	})})
	rt.MustSend(inform("go", "narcissus"))
	var full int
	for range 5 {
		if err := <-errs; errors.Is(err, caxton.ErrMailboxFull) {
			full++
		}
	}
	assert.Equal(t, 3, full, "two fit, the other three are refused at once")
}

func TestConcurrentStopAndCloseCloseInstancesOnce(t *testing.T) {
	for range 20 {
		rt, err := caxton.New()
		require.NoError(t, err)
		var closes atomic.Int64
		require.NoError(t, rt.Spawn(context.Background(), caxton.AgentSpec{Name: "a", Replicas: 4,
			NewHandler: func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) {
				return &countingCloser{closes: &closes}, nil
			}}))
		done := make(chan struct{})
		go func() { _ = rt.Stop(context.Background(), "a"); close(done) }()
		require.NoError(t, rt.Close(context.Background()))
		recvWithin(t, done)
		assert.Equal(t, int64(4), closes.Load())
	}
}

type countingCloser struct{ closes *atomic.Int64 }

func (c *countingCloser) HandleMessage(context.Context, *caxton.MessageContext) error { return nil }
func (c *countingCloser) Close() error                                                { c.closes.Add(1); return nil }

// After Close, every host call that changes routing says so, and the
// runtime lists no agents.
func TestAfterCloseRoutingCallsFailAndNothingIsListed(t *testing.T) {
	rt, err := caxton.New()
	require.NoError(t, err)
	require.NoError(t, rt.Spawn(context.Background(), caxton.AgentSpec{Name: "a", Handler: echo()}))
	id, err := rt.AddRule(acl.MatchPerformative(acl.Inform), "a")
	require.NoError(t, err)
	require.NoError(t, rt.Close(context.Background()))

	assert.ErrorIs(t, rt.Subscribe("news", "a"), caxton.ErrClosed)
	assert.ErrorIs(t, rt.Unsubscribe("news", "a"), caxton.ErrClosed)
	_, err = rt.AddRule(acl.MatchPerformative(acl.Inform), "a")
	assert.ErrorIs(t, err, caxton.ErrClosed)
	assert.ErrorIs(t, rt.RemoveRule(id), caxton.ErrClosed)
	_, err = rt.SubscribeFunc("news", func(context.Context, *acl.Message) error { return nil })
	assert.ErrorIs(t, err, caxton.ErrClosed)
	assert.Empty(t, rt.Agents())
	_, err = rt.Agent("a")
	assert.ErrorIs(t, err, caxton.ErrClosed)
	assert.ErrorIs(t, rt.Stop(context.Background(), "a"), caxton.ErrClosed)
}

// A Request whose context is cancelled and one whose context times out
// fail the same way: the context's error, wrapped with the request's id,
// whether the send or the wait was cut short.
func TestRequestContextErrorsAreWrappedAlike(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "silent", Handler: lcNop()})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel2()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want error
	}{{"cancelled", cancelled, context.Canceled}, {"timed out", expired, context.DeadlineExceeded}} {
		m := request("hello", "silent")
		m.ReplyWith = "req-" + strings.ReplaceAll(tc.name, " ", "-")
		_, err := rt.Request(tc.ctx, m)
		require.ErrorIs(t, err, tc.want, tc.name)
		assert.Contains(t, err.Error(), "caxton: request "+m.ReplyWith+": ", tc.name)
	}
	// ... and cut short while waiting for the reply.
	waiting, cancel3 := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	m := request("hello", "silent")
	m.ReplyWith = "req-waiting"
	go func() { _, err := rt.Request(waiting, m); errc <- err }()
	caxtontest.Eventually(t, func() bool { return must(rt.Agent("silent")).Processed == 1 }, "the request to be delivered")
	cancel3()
	err := recvWithin(t, errc)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "caxton: request req-waiting: ")
}

// An unknown receiver's error names the cause once ("caxton: deliver to
// "ghost": agent not found", not "... caxton: agent not found").
func TestDeliveryErrorSaysCaxtonOnce(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	err := rt.Send(caxtontest.Context(t), inform("boo", "ghost"))
	require.ErrorIs(t, err, caxton.ErrAgentNotFound)
	assert.Equal(t, `caxton: deliver to "ghost": agent not found`, err.Error())
}

// recvWithin receives from ch, failing the test (instead of hanging until
// go test's own timeout) if nothing arrives within the safety net.
func recvWithin[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(caxtontest.DefaultTimeout):
		t.Fatalf("nothing received within %v", caxtontest.DefaultTimeout)
		panic("unreachable")
	}
}
