package caxton_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lcMsg(to acl.AgentID, content string) *acl.Message {
	return &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{to}, Content: []byte(content)}
}

func lcNop() caxton.Handler {
	return caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { return nil })
}

func lcInfo(t *testing.T, rt *caxtontest.Runtime, name acl.AgentID) caxton.AgentInfo {
	t.Helper()
	info, err := rt.Agent(name)
	require.NoError(t, err)
	return info
}

func lcContents(ms []*acl.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Content)
	}
	return out
}

// lcCloseShort closes rt with a context too short for its busy handler.
func lcCloseShort(t *testing.T, rt *caxtontest.Runtime) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, rt.Close(ctx), context.DeadlineExceeded, "the drain is cut short")
}

// lcWait waits for ch to be closed or to deliver, bounded by DefaultTimeout.
func lcWait[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(caxtontest.DefaultTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestSpawnRejectsBadSpecs(t *testing.T) {
	t.Parallel()
	h := lcNop()
	factory := func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) { return h, nil }
	ok := func(mod func(*caxton.AgentSpec)) caxton.AgentSpec {
		s := caxton.AgentSpec{Name: "lc-bad", Handler: h}
		mod(&s)
		return s
	}
	tests := []struct {
		name  string
		spec  caxton.AgentSpec
		field string
	}{
		{"empty name", ok(func(s *caxton.AgentSpec) { s.Name = "" }), "Name"},
		{"bad character in name", ok(func(s *caxton.AgentSpec) { s.Name = "a b" }), "Name"},
		{"topic as name", ok(func(s *caxton.AgentSpec) { s.Name = "topic:x" }), "Name"},
		{"no handler", ok(func(s *caxton.AgentSpec) { s.Handler = nil }), "Handler"},
		{"both handlers", ok(func(s *caxton.AgentSpec) { s.NewHandler = factory }), "Handler"},
		{"negative replicas", ok(func(s *caxton.AgentSpec) { s.Replicas = -1 }), "Replicas"},
		{"negative mailbox", ok(func(s *caxton.AgentSpec) { s.MailboxCapacity = -1 }), "MailboxCapacity"},
		{"negative batch", ok(func(s *caxton.AgentSpec) { s.BatchSize = -1 }), "BatchSize"},
		{"unknown overflow", ok(func(s *caxton.AgentSpec) { s.Overflow = caxton.OverflowReject + 1 }), "Overflow"},
		{"unknown balance", ok(func(s *caxton.AgentSpec) { s.Balance = caxton.BalanceRoundRobin + 1 }), "Balance"},
		{"bad topic", ok(func(s *caxton.AgentSpec) { s.Topics = []string{"fine", "not fine"} }), "Topics"},
		{"empty topic", ok(func(s *caxton.AgentSpec) { s.Topics = []string{""} }), "Topics"},
		{"bad capability", ok(func(s *caxton.AgentSpec) { s.Capabilities = []string{"ok", "not ok"} }), "Capabilities"},
		{"empty capability", ok(func(s *caxton.AgentSpec) { s.Capabilities = []string{""} }), "Capabilities"},
		{"negative max attempts", ok(func(s *caxton.AgentSpec) { s.Delivery.MaxAttempts = -1 }), "Delivery.MaxAttempts"},
		{"negative delivery backoff", ok(func(s *caxton.AgentSpec) { s.Delivery.Backoff.Initial = -1 }), "Delivery.Backoff.Initial"},
		{"delivery multiplier below 1", ok(func(s *caxton.AgentSpec) { s.Delivery.Backoff.Multiplier = 0.5 }), "Delivery.Backoff.Multiplier"},
		{"delivery max below initial", ok(func(s *caxton.AgentSpec) {
			s.Delivery.Backoff = caxton.Backoff{Initial: time.Second, Max: time.Millisecond}
		}), "Delivery.Backoff.Max"},
		{"negative max restarts", ok(func(s *caxton.AgentSpec) { s.Restart.MaxRestarts = -1 }), "Restart.MaxRestarts"},
		{"negative window", ok(func(s *caxton.AgentSpec) { s.Restart.Window = -time.Second }), "Restart.Window"},
		{"negative restart backoff", ok(func(s *caxton.AgentSpec) { s.Restart.Backoff.Max = -1 }), "Restart.Backoff.Max"},
		{"restart multiplier below 1", ok(func(s *caxton.AgentSpec) { s.Restart.Backoff.Multiplier = 0.5 }), "Restart.Backoff.Multiplier"},
		{"restart max below initial", ok(func(s *caxton.AgentSpec) {
			s.Restart.Backoff = caxton.Backoff{Initial: time.Minute, Max: time.Second}
		}), "Restart.Backoff.Max"},
	}
	rt := caxtontest.NewRuntime(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := rt.Spawn(caxtontest.SpawnContext(t), tc.spec)
			require.Error(t, err)
			assert.ErrorIs(t, err, caxton.ErrInvalidSpec)
			var se *caxton.SpecError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.field, se.Field)
			assert.NotEmpty(t, se.Reason)
		})
	}
	assert.Empty(t, rt.Agents(), "no bad spec registers an agent")
	require.NoError(t, rt.Spawn(caxtontest.SpawnContext(t), ok(func(*caxton.AgentSpec) {})), "the name is still free")
}

func TestSpawnNameConflicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts        []caxton.Option
		taken, free []acl.AgentID
	}{
		{nil, []acl.AgentID{"host", "caxton", "lc-dup", "lc-inbox"}, []acl.AgentID{"front", "sys"}},
		{[]caxton.Option{caxton.WithHostName("front"), caxton.WithSystemName("sys")},
			[]acl.AgentID{"front", "sys", "lc-dup", "lc-inbox"}, []acl.AgentID{"host", "caxton"}},
	}
	for _, tc := range tests {
		rt := caxtontest.NewRuntime(t, tc.opts...)
		ctx := caxtontest.Context(t)
		rt.MustSpawn(caxton.AgentSpec{Name: "lc-dup", Handler: lcNop()})
		_, err := rt.NewInbox("lc-inbox")
		require.NoError(t, err)
		for _, name := range tc.taken {
			assert.ErrorIs(t, rt.Spawn(ctx, caxton.AgentSpec{Name: name, Handler: lcNop()}), caxton.ErrAgentExists, "name %q", name)
		}
		for _, name := range tc.free {
			assert.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: name, Handler: lcNop()}), "name %q", name)
		}
	}
}

func TestStopQueuesMessagesAndStartHandlesThemInOrder(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "lc-rec")
	require.NoError(t, rt.Stop(ctx, "lc-rec"))
	require.NoError(t, rt.Stop(ctx, "lc-rec"), "stopping a stopped agent is a no-op")
	assert.Equal(t, caxton.StateStopped, lcInfo(t, rt, "lc-rec").State)

	want := []string{"m0", "m1", "m2", "m3", "m4"}
	for i, c := range want {
		rt.MustSend(lcMsg("lc-rec", c))
		assert.Equal(t, i+1, lcInfo(t, rt, "lc-rec").QueueDepth)
	}
	info := lcInfo(t, rt, "lc-rec")
	assert.Equal(t, uint64(0), info.Processed)
	assert.Equal(t, 0, rec.Len())

	require.NoError(t, rt.Start(ctx, "lc-rec"))
	require.NoError(t, rt.Start(ctx, "lc-rec"), "starting a running agent is a no-op")
	assert.Equal(t, want, lcContents(rec.AwaitN(t, 5)))
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "lc-rec").Processed == 5 }, "5 processed")
	info = lcInfo(t, rt, "lc-rec")
	assert.Equal(t, caxton.StateRunning, info.State)
	assert.Equal(t, 0, info.QueueDepth)
	assert.Equal(t, 5, rec.Len())
}

func TestRestartKeepsQueuedMessages(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "lc-echo", Handler: echo()})
	require.NoError(t, rt.Restart(ctx, "lc-echo"))
	assert.Equal(t, caxton.StateRunning, lcInfo(t, rt, "lc-echo").State)
	assert.Equal(t, "a", string(rt.MustRequest(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"lc-echo"}, Content: []byte("a")}).Content))

	require.NoError(t, rt.Stop(ctx, "lc-echo"))
	rt.MustSend(lcMsg("lc-echo", "queued"))
	assert.Equal(t, 1, lcInfo(t, rt, "lc-echo").QueueDepth)
	require.NoError(t, rt.Restart(ctx, "lc-echo"), "restart also starts a stopped agent")
	got := caxtontest.AwaitInbox(t, rt.Inbox(), nil)
	assert.Equal(t, "queued", string(got.Content))
	assert.Equal(t, acl.AgentID("lc-echo"), got.Sender)
	assert.Equal(t, caxton.StateRunning, lcInfo(t, rt, "lc-echo").State)
}

func TestRemoveDeadLettersQueuedMessages(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "lc-gone", Handler: lcNop(), Topics: []string{"lc-rm"}})
	require.NoError(t, rt.Stop(ctx, "lc-gone"))
	for _, c := range []string{"q0", "q1", "q2"} {
		rt.MustSend(lcMsg("lc-gone", c))
	}
	require.NoError(t, rt.Remove(ctx, "lc-gone"))

	dls, err := rt.DeadLetters(context.Background())
	require.NoError(t, err)
	require.Len(t, dls, 3)
	for i, d := range dls {
		assert.Equal(t, fmt.Sprintf("q%d", i), string(d.Message.Content))
		assert.Equal(t, "agent removed", d.Reason)
		assert.Equal(t, acl.AgentID("lc-gone"), d.Receiver)
		assert.Equal(t, 0, d.Attempts)
		assert.NotEmpty(t, d.ID)
	}

	assert.ErrorIs(t, rt.Send(ctx, lcMsg("lc-gone", "late")), caxton.ErrAgentNotFound)
	assert.ErrorIs(t, rt.Send(ctx, lcMsg(acl.Topic("lc-rm"), "late")), caxton.ErrNoSubscribers, "its subscriptions are dropped")
	_, err = rt.Agent("lc-gone")
	assert.ErrorIs(t, err, caxton.ErrAgentNotFound)
	assert.ErrorIs(t, rt.Remove(ctx, "lc-gone"), caxton.ErrAgentNotFound)
	assert.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "lc-gone", Handler: lcNop()}), "the name is free again")
}

func TestAgentsAreSortedAndHideSubscriptions(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	assert.Empty(t, rt.Agents())
	for _, n := range []acl.AgentID{"lc-zeta", "lc-alpha", "lc-mid"} {
		rt.MustSpawn(caxton.AgentSpec{Name: n, Handler: lcNop()})
	}
	_, err := rt.SubscribeFunc("lc-news", func(context.Context, *acl.Message) error { return nil })
	require.NoError(t, err)
	_, err = rt.NewInbox("lc-box")
	require.NoError(t, err)
	var names []acl.AgentID
	for _, a := range rt.Agents() {
		names = append(names, a.Name)
	}
	assert.Equal(t, []acl.AgentID{"lc-alpha", "lc-mid", "lc-zeta"}, names)
}

func TestAgentInfoCounters(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{
		Name:     "lc-count",
		Replicas: 2,
		Topics:   []string{"lc-b", "lc-a"},
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 2, Backoff: caxton.Backoff{Initial: 10 * time.Millisecond}},
		Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
			if string(mc.Message().Content) == "bad" {
				return errors.New("nope")
			}
			return nil
		}),
	})
	info := lcInfo(t, rt, "lc-count")
	assert.Equal(t, caxton.AgentInfo{Name: "lc-count", State: caxton.StateRunning, Replicas: 2, Topics: []string{"lc-a", "lc-b"}, Version: "v1"}, info)

	rt.MustSend(lcMsg("lc-count", "ok1"))
	rt.MustSend(lcMsg("lc-count", "bad"))
	rt.MustSend(lcMsg("lc-count", "ok2"))
	rt.AdvanceWhenWaiting(1, 10*time.Millisecond)
	dls := rt.AwaitDeadLetters(1)
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "lc-count").Processed == 2 }, "2 processed")

	require.Len(t, dls, 1)
	assert.Equal(t, "max attempts", dls[0].Reason)
	assert.Equal(t, 2, dls[0].Attempts)
	assert.Equal(t, "nope", dls[0].LastError)
	info = lcInfo(t, rt, "lc-count")
	assert.Equal(t, caxton.AgentInfo{
		Name: "lc-count", State: caxton.StateRunning, Replicas: 2,
		Processed: 2, Failed: 2, Retried: 1, DeadLettered: 1, LastError: "nope",
		Topics: []string{"lc-a", "lc-b"}, Version: "v1",
	}, info)
}

func TestUnknownAgentOperations(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	_, err := rt.NewInbox("lc-inbox")
	require.NoError(t, err)
	_, err = rt.SubscribeFunc("lc-t", func(context.Context, *acl.Message) error { return nil })
	require.NoError(t, err)
	ops := map[string]func(acl.AgentID) error{
		"Stop":    func(n acl.AgentID) error { return rt.Stop(ctx, n) },
		"Start":   func(n acl.AgentID) error { return rt.Start(ctx, n) },
		"Restart": func(n acl.AgentID) error { return rt.Restart(ctx, n) },
		"Remove":  func(n acl.AgentID) error { return rt.Remove(ctx, n) },
		"Agent":   func(n acl.AgentID) error { _, err := rt.Agent(n); return err },
	}
	for op, f := range ops {
		// "$sub/lc-t/1" is the internal agent behind the subscription: the
		// first one made on this runtime.
		for _, name := range []acl.AgentID{"lc-nobody", "lc-inbox", "host", "$sub/lc-t/1"} {
			assert.ErrorIs(t, f(name), caxton.ErrAgentNotFound, "%s(%q)", op, name)
		}
	}
}

func TestSubscribeAndUnsubscribeAgentsAndInboxes(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "lc-sub")
	ib, err := rt.NewInbox("lc-watch")
	require.NoError(t, err)

	assert.ErrorIs(t, rt.Subscribe("lc-t", "lc-nobody"), caxton.ErrAgentNotFound)
	assert.ErrorIs(t, rt.Subscribe("not a topic", "lc-sub"), acl.ErrInvalid)
	assert.ErrorIs(t, rt.Send(ctx, lcMsg(acl.Topic("lc-t"), "x")), caxton.ErrNoSubscribers)

	require.NoError(t, rt.Subscribe("lc-t", "lc-sub"))
	require.NoError(t, rt.Subscribe("lc-t", "lc-watch"))
	require.NoError(t, rt.Subscribe("lc-t", "lc-watch"), "subscribing twice is a no-op")
	assert.Equal(t, []string{"lc-t"}, lcInfo(t, rt, "lc-sub").Topics)

	rt.MustSend(lcMsg(acl.Topic("lc-t"), "one"))
	assert.Equal(t, 1, ib.Len(), "delivered once to the inbox")
	assert.Equal(t, "one", string(caxtontest.AwaitInbox(t, ib, nil).Content))
	assert.Equal(t, []string{"one"}, lcContents(rec.AwaitN(t, 1)))

	require.NoError(t, rt.Unsubscribe("lc-t", "lc-watch"))
	assert.ErrorIs(t, rt.Unsubscribe("lc-t", "lc-watch"), caxton.ErrAgentNotFound)
	rt.MustSend(lcMsg(acl.Topic("lc-t"), "two"))
	assert.Equal(t, []string{"one", "two"}, lcContents(rec.AwaitN(t, 2)))
	assert.Equal(t, 0, ib.Len())

	require.NoError(t, rt.Unsubscribe("lc-t", "lc-sub"))
	assert.Empty(t, lcInfo(t, rt, "lc-sub").Topics)
	assert.ErrorIs(t, rt.Send(ctx, lcMsg(acl.Topic("lc-t"), "three")), caxton.ErrNoSubscribers)
	assert.ErrorIs(t, rt.Unsubscribe("lc-t", "lc-nobody"), caxton.ErrAgentNotFound)
}

var lcGoroutineID = regexp.MustCompile(`^goroutine (\d+) `)

// lcCaxtonGoroutines returns the ids of goroutines with a frame of package
// caxton, with their stacks.
func lcCaxtonGoroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for runtime.Stack(buf, true) == len(buf) {
		buf = make([]byte, 2*len(buf))
	}
	buf = buf[:runtime.Stack(buf, true)]
	out := map[string]string{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		s := string(g)
		if m := lcGoroutineID.FindStringSubmatch(s); m != nil && strings.Contains(s, "caxton-go/caxton.") {
			out[m[1]] = s
		}
	}
	return out
}

// TestCloseLeavesNoGoroutines must not be parallel: it inspects every
// goroutine in the process.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := lcCaxtonGoroutines()
	rt, err := caxton.New(caxton.WithClock(clock.NewFake(time.Time{})))
	require.NoError(t, err)
	ctx := caxtontest.Context(t)
	require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "lc-echo", Replicas: 3, Handler: echo()}))
	require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "lc-fwd", Replicas: 2, Balance: caxton.BalanceRoundRobin,
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			return mc.Send(ctx, lcMsg(acl.Topic("lc-leak"), string(mc.Message().Content)))
		})}))
	var heard atomic.Int32
	_, err = rt.SubscribeFunc("lc-leak", func(context.Context, *acl.Message) error { heard.Add(1); return nil })
	require.NoError(t, err)
	for i := range 10 {
		reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"lc-echo"}, Content: []byte{byte('a' + i)}})
		require.NoError(t, err)
		assert.Equal(t, []byte{byte('a' + i)}, reply.Content)
		require.NoError(t, rt.Send(ctx, lcMsg("lc-fwd", "n")))
	}
	caxtontest.Eventually(t, func() bool { return heard.Load() == 10 }, "10 forwarded messages")
	for range 10 { // Close while these are still on their way
		require.NoError(t, rt.Send(ctx, lcMsg("lc-fwd", "n")))
	}

	require.NoError(t, rt.Close(ctx))
	assert.Equal(t, int32(20), heard.Load(), "Close drained the work first")
	var leaked []string
	for deadline := time.Now().Add(caxtontest.DefaultTimeout); ; runtime.Gosched() {
		leaked = leaked[:0]
		for id, stack := range lcCaxtonGoroutines() {
			if _, old := before[id]; !old {
				leaked = append(leaked, stack)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			break
		}
	}
	assert.Empty(t, leaked, "goroutines left after Close")
}

func TestCloseDrainsQueuedWork(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	var na, nb atomic.Int32
	rt.MustSpawn(caxton.AgentSpec{Name: "lc-a", Replicas: 2, Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		na.Add(1)
		return mc.Send(ctx, lcMsg("lc-b", string(mc.Message().Content)))
	})})
	rt.MustSpawn(caxton.AgentSpec{Name: "lc-b", Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
		nb.Add(1)
		return nil
	})})
	rt.MustSpawn(caxton.AgentSpec{Name: "lc-parked", Handler: lcNop()})
	for _, n := range []acl.AgentID{"lc-a", "lc-b", "lc-parked"} {
		require.NoError(t, rt.Stop(ctx, n))
	}
	const n = 100
	for i := range n {
		rt.MustSend(lcMsg("lc-a", fmt.Sprint(i)))
	}
	rt.MustSend(lcMsg("lc-parked", "p0"))
	rt.MustSend(lcMsg("lc-parked", "p1"))
	require.NoError(t, rt.Start(ctx, "lc-a"))
	require.NoError(t, rt.Start(ctx, "lc-b"))

	require.NoError(t, rt.Close(ctx))
	assert.Equal(t, int32(n), na.Load())
	assert.Equal(t, int32(n), nb.Load())
	assert.Empty(t, rt.Agents(), "a closed runtime lists no agents")
	dls, err := rt.DeadLetters(context.Background())
	require.NoError(t, err)
	require.Len(t, dls, 2, "only the stopped agent's messages are left over")
	for i, d := range dls {
		assert.Equal(t, fmt.Sprintf("p%d", i), string(d.Message.Content))
		assert.Equal(t, "runtime closed", d.Reason)
		assert.Equal(t, acl.AgentID("lc-parked"), d.Receiver)
	}
}

// lcBlocker holds a handler until its context ends and then until open:
// the shape of a handler still busy when Close gives up on it.
type lcBlocker struct {
	entered, cancelled, release chan struct{}
	once, cancelOnce            sync.Once
}
