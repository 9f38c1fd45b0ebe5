package caxton_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/clock"
	"github.com/caxton-go/caxton/store/durable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// durableRuntime opens a runtime on a durable store in dir, with a fake
// clock starting at the same instant every time, as a restarted process
// would see its clock. The store is the runtime's: it closes with it.
func durableRuntime(t *testing.T, dir string, opts ...durable.Option) *caxtontest.Runtime {
	t.Helper()
	rt, _ := durableRuntimeStore(t, dir, opts...)
	return rt
}

// durableRuntimeStore is durableRuntime, also returning the store.
func durableRuntimeStore(t *testing.T, dir string, opts ...durable.Option) (*caxtontest.Runtime, *durable.Store) {
	t.Helper()
	fc := clock.NewFake(time.Time{})
	st, err := durable.Open(dir, append([]durable.Option{durable.WithClock(fc.Now)}, opts...)...)
	require.NoError(t, err)
	return caxtontest.NewRuntime(t, caxton.WithClock(fc), caxton.WithStore(st)), st
}

// collector records what a handler saw.
type collector struct {
	mu       sync.Mutex
	contents []string
	attempts []int
}

func (c *collector) handler(fail func(attempt int) error) caxton.Handler {
	return caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
		c.mu.Lock()
		c.contents = append(c.contents, string(mc.Message().Content))
		c.attempts = append(c.attempts, mc.Attempt())
		c.mu.Unlock()
		if fail != nil {
			return fail(mc.Attempt())
		}
		return nil
	})
}

func (c *collector) seen() ([]string, []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.contents...), append([]int(nil), c.attempts...)
}

func dInform(to acl.AgentID, content string) *acl.Message {
	return &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{to}, Content: []byte(content)}
}

// Messages queued for an agent outlive the runtime; after a restart they
// are delivered, in order, once the agent is spawned again — and a message
// sent before it is spawned waits for it.
func TestDurableMessagesOutliveTheRuntime(t *testing.T) {
	dir := t.TempDir()
	first := durableRuntime(t, dir)
	var c1 collector
	first.MustSpawn(caxton.AgentSpec{Name: "sink", Handler: c1.handler(nil)})
	require.NoError(t, first.Stop(caxtontest.Context(t), "sink"))
	for _, s := range []string{"one", "two", "three"} {
		first.MustSend(dInform("sink", s))
	}
	require.NoError(t, first.Close(caxtontest.Context(t)))
	dls, err := first.DeadLetters(context.Background())
	require.NoError(t, err)
	assert.Empty(t, dls, "a durable runtime keeps queued messages instead of dead-lettering them")
	got, _ := c1.seen()
	assert.Empty(t, got)

	second := durableRuntime(t, dir)
	second.MustSend(dInform("sink", "four")) // not spawned yet: it waits
	var c2 collector
	second.MustSpawn(caxton.AgentSpec{Name: "sink", Handler: c2.handler(nil)})
	caxtontest.Eventually(t, func() bool { got, _ := c2.seen(); return len(got) == 4 }, "all four delivered")
	got, _ = c2.seen()
	assert.Equal(t, []string{"one", "two", "three", "four"}, got)
}

// A message that failed keeps its attempt count and its backoff across a
// restart: the next attempt is number 2 and waits out the backoff.
func TestDurableRetriesSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	policy := caxton.DeliveryPolicy{MaxAttempts: 3, Backoff: caxton.Backoff{Initial: time.Minute, Max: time.Minute}}
	first := durableRuntime(t, dir)
	var c1 collector
	first.MustSpawn(caxton.AgentSpec{Name: "flaky", Delivery: policy,
		Handler: c1.handler(func(int) error { return errors.New("db down") })})
	first.MustSend(dInform("flaky", "order-7"))
	caxtontest.Eventually(t, func() bool { a, _ := first.Agent("flaky"); return a.Failed == 1 }, "first attempt failed")
	require.NoError(t, first.Clock.BlockUntil(caxtontest.Context(t), 1)) // parked in backoff
	require.NoError(t, first.Close(caxtontest.Context(t)))
	dls, err := first.DeadLetters(context.Background())
	require.NoError(t, err)
	assert.Empty(t, dls, "closing does not burn the remaining attempts")
	_, tried := c1.seen()
	assert.Equal(t, []int{1}, tried)

	second := durableRuntime(t, dir)
	var c2 collector
	second.MustSpawn(caxton.AgentSpec{Name: "flaky", Delivery: policy, Handler: c2.handler(nil)})
	second.AdvanceWhenWaiting(1, time.Minute) // the backoff recorded before the restart
	caxtontest.Eventually(t, func() bool { got, _ := c2.seen(); return len(got) == 1 }, "retried after the restart")
	got, attempts := c2.seen()
	assert.Equal(t, []string{"order-7"}, got)
	assert.Equal(t, []int{2}, attempts, "the attempt count survived")
}

// Dead letters survive a restart and can be replayed there.
func TestDurableDeadLettersSurviveAndReplay(t *testing.T) {
	dir := t.TempDir()
	first := durableRuntime(t, dir)
	var c1 collector
	first.MustSpawn(caxton.AgentSpec{Name: "strict", Delivery: caxton.DeliveryPolicy{MaxAttempts: 1},
		Handler: c1.handler(func(int) error { return caxton.Permanent(errors.New("bad order")) })})
	first.MustSend(dInform("strict", "order-9"))
	first.AwaitDeadLetters(1)
	require.NoError(t, first.Close(caxtontest.Context(t)))

	second := durableRuntime(t, dir)
	dls, err := second.DeadLetters(context.Background())
	require.NoError(t, err)
	require.Len(t, dls, 1)
	assert.Equal(t, "order-9", string(dls[0].Message.Content))
	assert.Contains(t, dls[0].LastError, "bad order")
	var c2 collector
	second.MustSpawn(caxton.AgentSpec{Name: "strict", Handler: c2.handler(nil)})
	require.NoError(t, second.ReplayDeadLetters(caxtontest.Context(t), dls[0].ID))
	caxtontest.Eventually(t, func() bool { got, _ := c2.seen(); return len(got) == 1 }, "replayed")
}

// A removed agent's queue is deleted: after a restart it is unknown.
func TestDurableRemovedAgentIsForgotten(t *testing.T) {
	dir := t.TempDir()
	first := durableRuntime(t, dir)
	first.MustSpawn(caxton.AgentSpec{Name: "temp", Handler: lcNop()})
	require.NoError(t, first.Remove(caxtontest.Context(t), "temp"))
	require.NoError(t, first.Close(caxtontest.Context(t)))
	second := durableRuntime(t, dir)
	assert.ErrorIs(t, second.Send(caxtontest.Context(t), dInform("temp", "x")), caxton.ErrAgentNotFound)
}

// A queue at its limit refuses with a full-mailbox error, for a running
// agent's queue and for an offline one's.
func TestDurableQueueLimit(t *testing.T) {
	dir := t.TempDir()
	first := durableRuntime(t, dir, durable.WithQueueLimit(2))
	first.MustSpawn(caxton.AgentSpec{Name: "slow", Handler: lcNop()})
	require.NoError(t, first.Stop(caxtontest.Context(t), "slow"))
	first.MustSend(dInform("slow", "1"))
	first.MustSend(dInform("slow", "2"))
	err := first.Send(caxtontest.Context(t), dInform("slow", "3"))
	require.ErrorIs(t, err, caxton.ErrMailboxFull)
	require.NoError(t, first.Close(caxtontest.Context(t)))

	second := durableRuntime(t, dir, durable.WithQueueLimit(2))
	assert.ErrorIs(t, second.Send(caxtontest.Context(t), dInform("slow", "3")), caxton.ErrMailboxFull, "offline, still full")
}

// A durable store is opted into with WithStore; its history is read from
// the store the host opened.
func TestDurableStoreThroughWithStore(t *testing.T) {
	_, err := caxton.New(caxton.WithStore(nil))
	var se *caxton.SpecError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "WithStore", se.Field)

	fc := clock.NewFake(time.Time{})
	st, err := durable.Open(t.TempDir(), durable.WithClock(fc.Now), durable.WithHistory(durable.Retention{MaxEntries: 100}))
	require.NoError(t, err)
	rt, err := caxton.New(caxton.WithClock(fc), caxton.WithStore(st))
	require.NoError(t, err)
	defer rt.Close(context.Background())
	require.NoError(t, rt.Spawn(context.Background(), caxton.AgentSpec{Name: "a", Handler: lcNop()}))
	m := dInform("a", "hello")
	m.ConversationID = "conv-1"
	require.NoError(t, rt.Send(context.Background(), m))
	h, err := st.History(context.Background(), durable.HistoryQuery{Conversation: "conv-1"})
	require.NoError(t, err)
	require.Len(t, h, 1)
	assert.Equal(t, "hello", string(h[0].Msg.Content))
	assert.Equal(t, fc.Now(), h[0].At, "history is stamped by the clock given to the store")
}

// With a durable store, an agent that failed (its restart policy gave up)
// keeps its messages and accepts new ones; they wait until the host starts
// it again, instead of being dead-lettered.
func TestDurableFailedAgentKeepsItsMail(t *testing.T) {
	rt := durableRuntime(t, t.TempDir())
	var broken atomic.Bool
	broken.Store(true)
	var c collector
	rt.MustSpawn(caxton.AgentSpec{Name: "fragile",
		Restart:  caxton.RestartPolicy{MaxRestarts: 1, Window: time.Hour},
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 5},
		NewHandler: func(context.Context, caxton.InstanceInfo) (caxton.Handler, error) {
			return c.handler(func(int) error {
				if broken.Load() {
					panic("corrupt cache")
				}
				return nil
			}), nil
		}})
	rt.MustSend(dInform("fragile", "first"))
	rt.AdvanceWhenWaiting(1, time.Minute) // the one replacement's backoff
	rt.AdvanceWhenWaiting(1, time.Minute) // then the delivery backoff
	caxtontest.Eventually(t, func() bool { a, _ := rt.Agent("fragile"); return a.State == caxton.StateFailed }, "the agent failed")
	require.NoError(t, rt.Send(caxtontest.Context(t), dInform("fragile", "second")), "a failed durable agent still takes mail")
	dls, err := rt.DeadLetters(context.Background())
	require.NoError(t, err)
	assert.Empty(t, dls)

	broken.Store(false)
	require.NoError(t, rt.Start(caxtontest.Context(t), "fragile"))
	caxtontest.Eventually(t, func() bool { got, _ := c.seen(); return len(got) >= 4 }, "both handled after the start")
	got, _ := c.seen()
	assert.Equal(t, []string{"first", "first", "first", "second"}, got, "two failed attempts, then both messages in order")
}

// A queue left by a replica that no longer exists (the agent now runs with
// fewer replicas) is adopted by replica 0: its messages are delivered.
func TestDurableFewerReplicasAdoptOrphanQueues(t *testing.T) {
	dir := t.TempDir()
	first := durableRuntime(t, dir)
	first.MustSpawn(caxton.AgentSpec{Name: "wide", Replicas: 3, Balance: caxton.BalanceRoundRobin, Handler: lcNop()})
	require.NoError(t, first.Stop(caxtontest.Context(t), "wide"))
	for _, s := range []string{"a", "b", "c", "d", "e", "f"} {
		first.MustSend(dInform("wide", s))
	}
	require.NoError(t, first.Close(caxtontest.Context(t)))

	second, st := durableRuntimeStore(t, dir)
	var c collector
	second.MustSpawn(caxton.AgentSpec{Name: "wide", Replicas: 1, Handler: c.handler(nil)})
	caxtontest.Eventually(t, func() bool { got, _ := c.seen(); return len(got) == 6 }, "all six delivered to the one replica")
	got, _ := c.seen()
	assert.ElementsMatch(t, []string{"a", "b", "c", "d", "e", "f"}, got)
	assert.Equal(t, []string{"wide#0"}, st.Queues(), "the former replicas' queues are gone")
}
