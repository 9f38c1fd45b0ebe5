package caxton_test

// Stop, Remove and Close when a handler will not finish in time: nothing may
// be lost, nothing may be pulled from under a running handler.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// supAwaitParked waits until the goroutine running a function whose name
// contains frame is parked in a select: sleep-free proof that it got there.
func supAwaitParked(t *testing.T, frame string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	caxtontest.Eventually(t, func() bool {
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if strings.Contains(g, "[select") && strings.Contains(g, frame) && strings.Contains(g, "caxton.(*agent).stop") {
				return true
			}
		}
		return false
	}, "%s to park in Stop", frame)
}

// supExpired returns a context that has already ended.
func supExpired() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestStopPutsBackMessagesAfterTheCurrentOne(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	g := newSupGate(func(context.Context) error { return nil })
	t.Cleanup(g.open)
	rt.MustSpawn(caxton.AgentSpec{Name: "sup-stop", Handler: g})
	batQueue(t, rt, "sup-stop", "block", "m1", "m2", "m3", "m4") // taken in one run
	lcWait(t, g.entered, "the first message")

	stopped := make(chan error, 1)
	go func() { stopped <- rt.Stop(ctx, "sup-stop") }()
	supAwaitParked(t, "TestStopPutsBackMessagesAfterTheCurrentOne")
	g.open()
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("Stop did not return")
	}
	info := lcInfo(t, rt, "sup-stop")
	assert.Equal(t, []string{"block"}, g.handled(), "only the current message is finished")
	assert.Equal(t, uint64(1), info.Processed)
	assert.Equal(t, 4, info.QueueDepth, "the rest wait in the mailbox, in order")

	require.NoError(t, rt.Start(ctx, "sup-stop"))
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "sup-stop").Processed == 5 }, "all handled")
	assert.Equal(t, []string{"block", "m1", "m2", "m3", "m4"}, g.handled())
}

func TestStopThatTimesOutLeavesTheAgentWorking(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	g := newSupGate(func(context.Context) error { return nil })
	t.Cleanup(g.open)
	rt.MustSpawn(caxton.AgentSpec{Name: "sup-stuck", Handler: g})
	rt.MustSend(lcMsg("sup-stuck", "block"))
	lcWait(t, g.entered, "the handler to start")
	assert.ErrorIs(t, rt.Stop(supExpired(), "sup-stuck"), context.Canceled)
	g.open()

	// Whatever state the failed Stop left, Start must give a working agent.
	require.NoError(t, rt.Start(ctx, "sup-stuck"))
	reqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	reply, err := rt.Request(reqCtx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"sup-stuck"}, Content: []byte("ping")})
	require.NoError(t, err, "state %v", lcInfo(t, rt, "sup-stuck").State)
	assert.Equal(t, "ping", string(reply.Content))
}

func TestRemoveThatTimesOutLosesNoMessages(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	g := newSupGate(func(context.Context) error { return errors.New("failed") })
	t.Cleanup(g.open)
	rt.MustSpawn(caxton.AgentSpec{Name: "sup-removed", Handler: g})
	batQueue(t, rt, "sup-removed", "block", "q1", "q2")
	lcWait(t, g.entered, "the handler to start")
	assert.ErrorIs(t, rt.Remove(supExpired(), "sup-removed"), context.Canceled)
	g.open()

	dls := rt.AwaitDeadLetters(3) // fails here: the messages are gone
	var got []string
	for _, d := range dls {
		got = append(got, string(d.Message.Content))
		assert.Equal(t, acl.AgentID("sup-removed"), d.Receiver)
	}
	assert.ElementsMatch(t, []string{"block", "q1", "q2"}, got)
}

func TestCloseDoesNotCloseAnInstanceWhoseHandlerIsRunning(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	b := newLcBlocker(t)
	closedMidCall := make(chan bool, 1)
	f := &supFactory{handle: func(ctx context.Context, _ *caxton.MessageContext, s *supInst) error {
		err := b.block(ctx)
		select {
		case closedMidCall <- s.closed.Load():
		default:
		}
		return err
	}}
	rt.MustSpawn(caxton.AgentSpec{Name: "lc-busy", NewHandler: f.New})
	rt.MustSend(lcMsg("lc-busy", "block"))
	lcWait(t, b.entered, "the handler to start")
	lcCloseShort(t, rt)
	b.open()

	select {
	case closed := <-closedMidCall:
		assert.False(t, closed, "the instance was closed while HandleMessage ran")
	case <-time.After(caxtontest.DefaultTimeout):
		t.Fatal("the handler did not finish")
	}
	dls := rt.AwaitDeadLetters(1) // the in-flight message must be accounted for
	assert.Equal(t, "block", string(dls[0].Message.Content))
}

func newLcBlocker(t *testing.T) *lcBlocker {
	b := &lcBlocker{entered: make(chan struct{}, 1), cancelled: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(b.open)
	return b
}

func (b *lcBlocker) open() { b.once.Do(func() { close(b.release) }) }

func (b *lcBlocker) block(ctx context.Context) error {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	b.cancelOnce.Do(func() { close(b.cancelled) })
	<-b.release
	return ctx.Err()
}

func TestCloseTimeoutDeadLettersQueuedMessages(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	b := newLcBlocker(t)
	var others atomic.Int32
	rt.MustSpawn(caxton.AgentSpec{Name: "lc-slow", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if string(mc.Message().Content) != "block" {
			others.Add(1)
			return nil
		}
		return b.block(ctx) // held until the test has inspected the dead letters
	})})
	rt.MustSend(lcMsg("lc-slow", "block"))
	lcWait(t, b.entered, "the handler to start")
	for _, c := range []string{"q1", "q2", "q3"} {
		rt.MustSend(lcMsg("lc-slow", c))
	}
	require.Equal(t, 3, lcInfo(t, rt, "lc-slow").QueueDepth)

	lcCloseShort(t, rt)
	lcWait(t, b.cancelled, "the handler's context to be cancelled")
	dls, err := rt.DeadLetters(context.Background())
	require.NoError(t, err)
	require.Len(t, dls, 3)
	for i, d := range dls {
		assert.Equal(t, fmt.Sprintf("q%d", i+1), string(d.Message.Content))
		assert.Equal(t, "runtime closed", d.Reason)
		assert.Equal(t, 0, d.Attempts)
	}
	assert.Equal(t, int32(0), others.Load())
	assert.ErrorIs(t, rt.Send(caxtontest.Context(t), lcMsg("lc-slow", "late")), caxton.ErrClosed)

	b.open()
	dls = rt.AwaitDeadLetters(4)
	assert.Equal(t, "block", string(dls[3].Message.Content), "the in-flight message is not lost either")
	assert.Equal(t, int32(0), others.Load(), "nothing was handled after Close began")
}

func TestCloseDeadLettersTakenButUnhandledMessages(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	b := newLcBlocker(t)
	b.open() // return as soon as the context ends
	var late atomic.Int32
	rt.MustSpawn(caxton.AgentSpec{Name: "lc-closing", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if string(mc.Message().Content) != "block" {
			late.Add(1)
			return ctx.Err()
		}
		return b.block(ctx)
	})})
	batQueue(t, rt, "lc-closing", "block", "q1", "q2", "q3") // taken in one run
	lcWait(t, b.entered, "the handler to start")
	lcCloseShort(t, rt)

	for _, d := range rt.AwaitDeadLetters(4) {
		if c := string(d.Message.Content); c != "block" {
			assert.Equal(t, "runtime closed", d.Reason, c)
			assert.Equal(t, 0, d.Attempts, c)
		}
	}
	assert.Equal(t, int32(0), late.Load(), "no handler call after the runtime cancelled contexts")
}
