package caxton_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// supStep is the default delivery and restart backoff for the first step.
const supStep = 10 * time.Millisecond

// supInst is one handler instance made by a supFactory.
type supInst struct {
	info   caxton.InstanceInfo
	closed atomic.Bool
	calls  atomic.Int32
	handle func(ctx context.Context, mc *caxton.MessageContext, s *supInst) error
}

func (s *supInst) HandleMessage(ctx context.Context, mc *caxton.MessageContext) error {
	s.calls.Add(1)
	return s.handle(ctx, mc, s)
}

func (s *supInst) Close() error {
	s.closed.Store(true)
	return nil
}

// supFactory records every instance it makes.
type supFactory struct {
	mu     sync.Mutex
	made   []*supInst
	fail   func(caxton.InstanceInfo) error
	handle func(ctx context.Context, mc *caxton.MessageContext, s *supInst) error
}

func (f *supFactory) New(_ context.Context, info caxton.InstanceInfo) (caxton.Handler, error) {
	if f.fail != nil {
		if err := f.fail(info); err != nil {
			return nil, err
		}
	}
	s := &supInst{info: info, handle: f.handle}
	f.mu.Lock()
	f.made = append(f.made, s)
	f.mu.Unlock()
	return s, nil
}

func (f *supFactory) instances() []*supInst {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*supInst(nil), f.made...)
}

func (f *supFactory) infos() (out []caxton.InstanceInfo) {
	for _, s := range f.instances() {
		out = append(out, s.info)
	}
	return out
}

// supReply answers with which instance handled the message.
func supReply(ctx context.Context, mc *caxton.MessageContext, s *supInst) error {
	return mc.Reply(ctx, acl.Inform, fmt.Appendf(nil, "%s r%d#%d attempt %d", mc.Message().Content, s.info.Replica, s.info.Restart, mc.Attempt()))
}

func TestNewHandlerMakesOneInstancePerReplica(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	f := &supFactory{handle: func(ctx context.Context, mc *caxton.MessageContext, s *supInst) error {
		if mc.Replica() != s.info.Replica {
			return caxton.Permanent(fmt.Errorf("replica %d got instance %d", mc.Replica(), s.info.Replica))
		}
		return nil
	}}
	rt.MustSpawn(caxton.AgentSpec{Name: "sup-many", Replicas: 3, Balance: caxton.BalanceRoundRobin, NewHandler: f.New})
	assert.Equal(t, []caxton.InstanceInfo{{Agent: "sup-many", Replica: 0, Version: "v1"}, {Agent: "sup-many", Replica: 1, Version: "v1"}, {Agent: "sup-many", Replica: 2, Version: "v1"}}, f.infos())

	for i := range 6 {
		rt.MustSend(lcMsg("sup-many", fmt.Sprint(i)))
	}
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "sup-many").Processed == 6 }, "6 processed")
	for _, s := range f.instances() {
		assert.Equal(t, int32(2), s.calls.Load(), "round robin over 3 instances, replica %d", s.info.Replica)
	}
	assert.Equal(t, uint64(0), lcInfo(t, rt, "sup-many").DeadLettered)

	require.NoError(t, rt.Stop(ctx, "sup-many"))
	for _, s := range f.instances() {
		assert.True(t, s.closed.Load(), "Stop closes instance %d", s.info.Replica)
	}
	require.NoError(t, rt.Start(ctx, "sup-many"))
	got := f.instances()
	require.Len(t, got, 6, "Start makes fresh instances")
	for i, s := range got[3:] {
		assert.Equal(t, caxton.InstanceInfo{Agent: "sup-many", Replica: i, Version: "v1"}, s.info)
		assert.False(t, s.closed.Load())
	}
	assert.Equal(t, uint64(0), lcInfo(t, rt, "sup-many").Restarts, "a host restart is not a replacement")
}

func TestBrokenInstanceIsReplacedAndMessageRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		breakIt func() error
		lastErr string
	}{
		{"panic", func() error { panic("kaboom") }, `caxton: agent "sup-broken" panicked: kaboom`},
		{"ErrInstanceBroken", func() error { return fmt.Errorf("guest trapped: %w", caxton.ErrInstanceBroken) }, "guest trapped: caxton: instance broken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := caxtontest.NewRuntime(t)
			f := &supFactory{handle: func(ctx context.Context, mc *caxton.MessageContext, s *supInst) error {
				if s.info.Restart == 0 {
					return tc.breakIt()
				}
				return supReply(ctx, mc, s)
			}}
			rt.MustSpawn(caxton.AgentSpec{Name: "sup-broken", NewHandler: f.New})
			rt.MustSend(lcMsg("sup-broken", "job"))
			rt.AdvanceWhenWaiting(1, supStep) // restart backoff
			rt.AdvanceWhenWaiting(1, supStep) // delivery backoff
			reply := caxtontest.AwaitInbox(t, rt.Inbox(), nil)
			assert.Equal(t, "job r0#1 attempt 2", string(reply.Content), "retried on the replacement")

			assert.Equal(t, []caxton.InstanceInfo{{Agent: "sup-broken", Version: "v1"}, {Agent: "sup-broken", Restart: 1, Version: "v1"}}, f.infos())
			inst := f.instances()
			assert.True(t, inst[0].closed.Load(), "the broken instance is closed")
			assert.False(t, inst[1].closed.Load())
			caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "sup-broken").Processed == 1 }, "processed")
			info := lcInfo(t, rt, "sup-broken")
			assert.Equal(t, caxton.StateRunning, info.State)
			assert.Equal(t, uint64(1), info.Restarts)
			assert.Equal(t, uint64(1), info.Failed)
			assert.Equal(t, uint64(1), info.Retried)
			assert.Equal(t, uint64(0), info.DeadLettered)
			assert.Equal(t, tc.lastErr, info.LastError)
		})
	}
}

func TestSharedHandlerPanicIsRecovered(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "sup-shared", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if string(mc.Message().Content) == "boom" && mc.Attempt() == 1 {
			panic("kaboom")
		}
		return mc.Reply(ctx, acl.Inform, fmt.Appendf(nil, "%s@%d", mc.Message().Content, mc.Attempt()))
	})})
	rt.MustSend(lcMsg("sup-shared", "boom"))
	rt.AdvanceWhenWaiting(1, supStep)
	assert.Equal(t, "boom@2", string(caxtontest.AwaitInbox(t, rt.Inbox(), nil).Content))
	rt.MustSend(lcMsg("sup-shared", "fine"))
	assert.Equal(t, "fine@1", string(caxtontest.AwaitInbox(t, rt.Inbox(), nil).Content), "the agent keeps serving")

	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "sup-shared").Processed == 2 }, "processed")
	info := lcInfo(t, rt, "sup-shared")
	assert.Equal(t, caxton.StateRunning, info.State)
	assert.Equal(t, uint64(0), info.Restarts, "a shared handler is not replaced")
	assert.Equal(t, uint64(1), info.Failed)
	want := &caxton.PanicError{Agent: "sup-shared", Value: "kaboom"}
	assert.Equal(t, want.Error(), info.LastError)
	dls, err := rt.DeadLetters(context.Background())
	require.NoError(t, err)
	assert.Empty(t, dls)
}

func TestCrashLoopFailsAgentAndRestartRevivesIt(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	var crashing atomic.Bool
	crashing.Store(true)
	f := &supFactory{handle: func(ctx context.Context, mc *caxton.MessageContext, s *supInst) error {
		if crashing.Load() {
			panic("always")
		}
		return supReply(ctx, mc, s)
	}}
	fixed := caxton.Backoff{Initial: supStep, Max: supStep}
	rt.MustSpawn(caxton.AgentSpec{
		Name:       "sup-loop",
		NewHandler: f.New,
		Delivery:   caxton.DeliveryPolicy{MaxAttempts: 10, Backoff: fixed},
		Restart:    caxton.RestartPolicy{MaxRestarts: 2, Backoff: fixed},
	})
	for _, c := range []string{"m1", "m2", "m3"} {
		rt.MustSend(lcMsg("sup-loop", c))
	}
	// Two replacements are allowed; each is followed by a delivery backoff.
	for range 4 {
		rt.AdvanceWhenWaiting(1, supStep)
	}
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "sup-loop").State == caxton.StateFailed }, "the agent to fail")
	dls := rt.AwaitDeadLetters(3)
	require.Len(t, dls, 3)
	byContent := map[string]caxton.DeadLetter{}
	for _, d := range dls {
		assert.Equal(t, "agent failed", d.Reason)
		assert.Equal(t, acl.AgentID("sup-loop"), d.Receiver)
		byContent[string(d.Message.Content)] = d
	}
	require.Contains(t, byContent, "m1")
	assert.Equal(t, 3, byContent["m1"].Attempts)
	assert.Contains(t, byContent, "m2")
	assert.Contains(t, byContent, "m3")

	info := lcInfo(t, rt, "sup-loop")
	assert.Equal(t, uint64(2), info.Restarts)
	assert.Equal(t, uint64(3), info.Failed)
	assert.Equal(t, uint64(3), info.DeadLettered)
	assert.Equal(t, uint64(0), info.Processed)
	assert.Contains(t, info.LastError, "3 instance replacements within 1m0s")
	assert.Contains(t, info.LastError, "panicked: always")
	assert.Equal(t, 0, rt.Clock.Pending(), "no restart is scheduled")
	assert.Len(t, f.instances(), 3)
	for _, s := range f.instances() {
		assert.True(t, s.closed.Load(), "instance #%d closed", s.info.Restart)
	}

	err := rt.Send(ctx, lcMsg("sup-loop", "refused"))
	assert.ErrorIs(t, err, caxton.ErrAgentFailed)
	var de *caxton.DeliveryError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, acl.AgentID("sup-loop"), de.Receiver)

	crashing.Store(false)
	require.NoError(t, rt.Restart(ctx, "sup-loop"))
	assert.Equal(t, caxton.StateRunning, lcInfo(t, rt, "sup-loop").State)
	require.Len(t, f.instances(), 4, "a fresh instance")
	rt.MustSend(lcMsg("sup-loop", "again"))
	assert.Equal(t, "again r0#2 attempt 1", string(caxtontest.AwaitInbox(t, rt.Inbox(), nil).Content))
}

func TestRestartsOutsideTheWindowDoNotCount(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	f := &supFactory{handle: func(ctx context.Context, mc *caxton.MessageContext, s *supInst) error {
		if mc.Attempt() == 1 {
			panic("once per message")
		}
		return supReply(ctx, mc, s)
	}}
	rt.MustSpawn(caxton.AgentSpec{Name: "sup-window", NewHandler: f.New,
		Restart: caxton.RestartPolicy{MaxRestarts: 1, Window: time.Minute, Backoff: caxton.Backoff{Initial: supStep, Max: supStep}}})
	for i := 1; i <= 2; i++ {
		rt.MustSend(lcMsg("sup-window", "job"))
		rt.AdvanceWhenWaiting(1, supStep)
		rt.AdvanceWhenWaiting(1, supStep)
		assert.Equal(t, fmt.Sprintf("job r0#%d attempt 2", i), string(caxtontest.AwaitInbox(t, rt.Inbox(), nil).Content))
		rt.Clock.Advance(2 * time.Minute) // the replacement leaves the window
	}
	info := lcInfo(t, rt, "sup-window")
	assert.Equal(t, caxton.StateRunning, info.State)
	assert.Equal(t, uint64(2), info.Restarts)
}

var errSupBoom = errors.New("factory exploded")

func TestFactoryErrorFailsSpawn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replicas int
		fail     func(caxton.InstanceInfo) error
		nilH     bool
		made     int // instances made (and closed again) before the failure
	}{
		{"first replica", 1, func(caxton.InstanceInfo) error { return errSupBoom }, false, 0},
		{"second replica", 2, func(i caxton.InstanceInfo) error {
			if i.Replica == 1 {
				return errSupBoom
			}
			return nil
		}, false, 1},
		{"nil handler", 1, nil, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := caxtontest.NewRuntime(t)
			ctx := caxtontest.Context(t)
			f := &supFactory{fail: tc.fail, handle: supReply}
			newHandler := f.New
			if tc.nilH {
				newHandler = func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) { return nil, nil }
			}
			err := rt.Spawn(ctx, caxton.AgentSpec{Name: "sup-nofac", Replicas: tc.replicas, Topics: []string{"sup-t"}, NewHandler: newHandler})
			require.Error(t, err)
			if tc.nilH {
				assert.Contains(t, err.Error(), "nil handler")
			} else {
				assert.ErrorIs(t, err, errSupBoom)
			}
			_, err = rt.Agent("sup-nofac")
			assert.ErrorIs(t, err, caxton.ErrAgentNotFound)
			assert.Empty(t, rt.Agents())
			assert.ErrorIs(t, rt.Send(ctx, lcMsg("sup-nofac", "x")), caxton.ErrAgentNotFound)
			assert.ErrorIs(t, rt.Send(ctx, lcMsg(acl.Topic("sup-t"), "x")), caxton.ErrNoSubscribers)
			require.Len(t, f.instances(), tc.made)
			for _, s := range f.instances() {
				assert.True(t, s.closed.Load(), "an instance made before the failure is closed")
			}
			require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "sup-nofac", Handler: lcNop()}), "the name is free")
		})
	}
}

func TestPermanentErrorDeadLettersAfterOneAttempt(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	cause := errors.New("bad input")
	var calls atomic.Int32
	rt.MustSpawn(caxton.AgentSpec{Name: "sup-perm", Delivery: caxton.DeliveryPolicy{MaxAttempts: 5},
		Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
			calls.Add(1)
			return caxton.Permanent(cause)
		})})
	rt.MustSend(lcMsg("sup-perm", "x"))
	dls := rt.AwaitDeadLetters(1)
	require.Len(t, dls, 1)
	assert.Equal(t, "permanent failure", dls[0].Reason)
	assert.Equal(t, 1, dls[0].Attempts)
	assert.Equal(t, "permanent: bad input", dls[0].LastError)
	assert.Equal(t, int32(1), calls.Load())
	assert.Equal(t, 0, rt.Clock.Pending(), "no retry is scheduled")
	info := lcInfo(t, rt, "sup-perm")
	assert.Equal(t, uint64(1), info.Failed)
	assert.Equal(t, uint64(0), info.Retried)
	assert.Equal(t, uint64(1), info.DeadLettered)
	assert.Equal(t, uint64(0), info.Processed)

	assert.NoError(t, caxton.Permanent(nil))
	assert.ErrorIs(t, caxton.Permanent(cause), caxton.ErrPermanent)
	assert.ErrorIs(t, caxton.Permanent(cause), cause)
}

// supGate handles messages in order, recording them; "block" waits for
// open and then returns result(ctx). Other messages are answered.
type supGate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	result  func(ctx context.Context) error
	mu      sync.Mutex
	seen    []string
}

func newSupGate(result func(ctx context.Context) error) *supGate {
	return &supGate{entered: make(chan struct{}, 1), release: make(chan struct{}), result: result}
}

func (g *supGate) open() { g.once.Do(func() { close(g.release) }) }

func (g *supGate) HandleMessage(ctx context.Context, mc *caxton.MessageContext) error {
	c := string(mc.Message().Content)
	g.mu.Lock()
	g.seen = append(g.seen, c)
	g.mu.Unlock()
	if c != "block" {
		return mc.Reply(ctx, acl.Inform, mc.Message().Content)
	}
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.release
	return g.result(ctx)
}

func (g *supGate) handled() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.seen...)
}
