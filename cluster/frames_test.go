package cluster

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Messages from one sender to one agent on another node arrive in the
// order sent, though many senders share the outbox and its frames, with
// synchronous and asynchronous publishing.
func TestOrderPerSenderAcrossNodes(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name    string
		opts    []Option
		mailbox int // the sink's: a small one makes the node hand most messages to the agent's worker (offer)
	}{{"sync", nil, 4096}, {"async", []Option{WithAsyncPublish(256)}, 4096}, {"async, small mailbox", []Option{WithAsyncPublish(256)}, 4}} {
		t.Run(mode.name, func(t *testing.T) {
			tc := newTestCluster(t, 1, 2, mode.opts...)
			ctx := testCtx(t)
			const senders, each = 8, 300
			var mu sync.Mutex
			last := map[acl.AgentID]int{}
			var disorder []string
			done := make(chan struct{})
			got := 0
			require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "sink", MailboxCapacity: mode.mailbox,
				Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
					m := mc.Message()
					k, err := strconv.Atoi(string(m.Content))
					if err != nil {
						return err
					}
					mu.Lock()
					defer mu.Unlock()
					if prev, ok := last[m.Sender]; ok && k != prev+1 || !ok && k != 0 {
						disorder = append(disorder, fmt.Sprintf("%s: %d after %d", m.Sender, k, prev))
					}
					last[m.Sender] = k
					if got++; got == senders*each {
						close(done)
					}
					return nil
				})}))
			var wg sync.WaitGroup
			for s := range senders {
				ib, err := tc.rts[0].NewInbox(acl.AgentID(fmt.Sprint("sender-", s)))
				require.NoError(t, err)
				wg.Go(func() {
					for k := range each {
						if err := ib.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"sink"}, Content: []byte(strconv.Itoa(k))}); err != nil {
							t.Errorf("send: %v", err)
							return
						}
					}
				})
			}
			wg.Wait()
			select {
			case <-done:
			case <-ctx.Done():
				t.Fatalf("only %d of %d arrived", got, senders*each)
			}
			mu.Lock()
			defer mu.Unlock()
			assert.Empty(t, disorder)
			eventually(t, func() bool {
				k := 0
				tc.nodes[0].outboxes.m.Range(func(any, any) bool { k++; return true })
				return k == 0
			}, "the idle outbox dropped")
		})
	}
}

// sealAs seals ms (ms[i] for to[i]) on node's mail subject as signer, the
// way a node's outbox does, and publishes it to the stream.
func sealAs(t *testing.T, tc *testCluster, signer int, node string, to []acl.AgentID, contents ...string) {
	t.Helper()
	ms := make([]*acl.Message, len(contents))
	for i, c := range contents {
		ms[i] = acl.New(acl.Inform, to[i])
		ms[i].Sender, ms[i].Content, ms[i].ID, ms[i].CreatedAt = "host", []byte(c), acl.NewID(), time.Now()
	}
	n := tc.nodes[signer]
	msg, err := seal(n.lay.mailSubject(node), n.name, n.key, to, ms, n.cfg.maxBytes)
	require.NoError(t, err)
	_, err = n.js.PublishMsg(testCtx(t), msg)
	require.NoError(t, err)
}

// drained waits until the mail stream holds nothing: every frame
// acknowledged (a work queue deletes what is acknowledged).
func drained(t *testing.T, n *Node) {
	t.Helper()
	eventually(t, func() bool {
		info, err := n.stream.Info(testCtx(t))
		return err == nil && info.State.Msgs == 0
	}, "every frame acknowledged")
}

// A frame carries messages for several agents of a node: the node takes
// those of its own agents and passes the rest on to where their agent
// lives, each message handled once.
func TestAFrameForSeveralAgentsIsSplitByReceiver(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 3)
	ctx := testCtx(t)
	vault, teller := newCounter(), newCounter()
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "vault", Handler: vault.handler()}))
	require.NoError(t, tc.rts[2].Spawn(ctx, caxton.AgentSpec{Name: "teller", Handler: teller.handler()}))
	eventually(t, func() bool { _, ok := tc.nodes[0].dir.lookup("teller"); return ok }, "n0 to see teller")

	// as if n1's directory were stale: teller's messages reach n0
	sealAs(t, tc, 1, "n0", []acl.AgentID{"vault", "teller", "vault", "teller"}, "v1", "t1", "v2", "t2")
	eventually(t, func() bool { return vault.n.Load() == 2 && teller.n.Load() == 2 }, "both agents' messages")
	drained(t, tc.nodes[0])
	vault.mu.Lock()
	assert.Equal(t, map[string]int{"v1": 1, "v2": 1}, vault.seen)
	vault.mu.Unlock()
	teller.mu.Lock()
	assert.Equal(t, map[string]int{"t1": 1, "t2": 1}, teller.seen)
	teller.mu.Unlock()
}

// Messages of a frame given back by an agent removed here (they were
// still in its mailbox) come again for that agent only — to its other
// replica — and the other agents' messages of the frame are not handled
// twice.
func TestGivenBackMessagesComeAgainForTheirReceiverOnly(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 3)
	ctx := testCtx(t)
	gate, started := make(chan struct{}), make(chan struct{}, 1)
	here := newCounter()
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "shared",
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			started <- struct{}{}
			<-gate // held while the replica is removed: what queued behind is given back
			return here.handler().HandleMessage(ctx, mc)
		})}))
	there, solo := newCounter(), newCounter()
	require.NoError(t, tc.rts[2].Spawn(ctx, caxton.AgentSpec{Name: "shared", Handler: there.handler()}))
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "solo", Handler: solo.handler()}))
	eventually(t, func() bool { r, _ := tc.nodes[0].dir.lookup("shared"); return len(r.Placements) == 2 }, "n0 to see both replicas")

	sealAs(t, tc, 1, "n0", []acl.AgentID{"shared", "shared", "solo"}, "a1", "a2", "b1")
	<-started
	eventually(t, func() bool { return solo.n.Load() == 1 }, "solo's message")
	removed := make(chan error, 1)
	go func() { removed <- tc.rts[0].Remove(ctx, "shared") }()
	eventually(t, func() bool {
		inf, err := tc.rts[0].Agent("shared")
		return err != nil || inf.State == caxton.StateStopped
	}, "the removal to stop shared on n0")
	close(gate)
	require.NoError(t, <-removed)

	eventually(t, func() bool { return there.n.Load() == 1 }, "a2 handled by the other replica")
	drained(t, tc.nodes[0])
	assert.Equal(t, map[string]int{"a1": 1}, here.seen)
	there.mu.Lock()
	assert.Equal(t, map[string]int{"a2": 1}, there.seen)
	there.mu.Unlock()
	solo.mu.Lock()
	assert.Equal(t, map[string]int{"b1": 1}, solo.seen, "solo's message came again with shared's")
	solo.mu.Unlock()
	dls, err := tc.rts[0].DeadLetters(ctx)
	require.NoError(t, err)
	assert.Empty(t, dls)
}

// Messages an agent refuses for now (a full mailbox that rejects) wait on
// the node that holds their frame and are tried again there: nothing is
// written to the stream meanwhile, and each is handled once when the
// agent catches up. (Found by a review of eab07f2: they were given back
// and republished to the node's own subject every 200 ms.)
func TestARefusingAgentIsRetriedNotRepublished(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 2)
	ctx := testCtx(t)
	gate := make(chan struct{})
	c := newCounter()
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "slow", MailboxCapacity: 1, BatchSize: 1, Overflow: caxton.OverflowReject,
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			<-gate
			return c.handler().HandleMessage(ctx, mc)
		})}))
	const frames, each = 4, 64
	for k := range frames {
		to, contents := make([]acl.AgentID, each), make([]string, each)
		for i := range to {
			to[i], contents[i] = "slow", fmt.Sprint(k*each+i)
		}
		sealAs(t, tc, 1, "n0", to, contents...)
	}
	n0 := tc.nodes[0]
	eventually(t, func() bool { n0.fmu.Lock(); defer n0.fmu.Unlock(); return len(n0.frames) == frames }, "the frames held")
	assert.Never(t, func() bool { return lastSeq(t, n0) > frames }, time.Second, 20*time.Millisecond, "written to the stream while the agent refused")
	close(gate)
	eventually(t, func() bool { lost, _ := c.missing(frames * each); return len(lost) == 0 }, "every message handled")
	drained(t, n0)
	_, dups := c.missing(frames * each)
	assert.Zero(t, dups)
	assert.Equal(t, uint64(frames), lastSeq(t, n0))
}

// With WithDeduplication a frame published again (its acknowledgement was
// lost) is stored once, while another frame that begins with the same
// message is not taken for it; messages sent through such a node arrive.
func TestDeduplicationIsPerFrame(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 2, WithDeduplication())
	ctx := testCtx(t)
	c := newCounter()
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "sink", Handler: c.handler()}))
	for i := range 50 {
		require.NoError(t, tc.rts[1].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"sink"}, Content: fmt.Append(nil, i)}))
	}
	eventually(t, func() bool { lost, _ := c.missing(50); return len(lost) == 0 }, "the messages sent with de-duplication on")

	n1 := tc.nodes[1]
	msg := func(content string) *acl.Message {
		m := acl.New(acl.Inform, "sink")
		m.Sender, m.Content, m.ID, m.CreatedAt = "host", []byte(content), acl.NewID(), time.Now()
		return m
	}
	a, b, c2 := msg("a"), msg("b"), msg("c")
	publish := func(ms ...*acl.Message) *jetstream.PubAck {
		to := make([]acl.AgentID, len(ms))
		for i := range to {
			to[i] = "sink"
		}
		f, err := seal(n1.lay.mailSubject("n0"), n1.name, n1.key, to, ms, n1.cfg.maxBytes)
		require.NoError(t, err)
		ack, err := n1.js.PublishMsg(ctx, f, n1.pubOpts(ms, to)...)
		require.NoError(t, err)
		return ack
	}
	assert.False(t, publish(a, b).Duplicate)
	assert.True(t, publish(a, b).Duplicate, "the same frame again")
	assert.False(t, publish(a, c2).Duplicate, "a frame of as many messages that begins with the same one")
	eventually(t, func() bool { return c.n.Load() == 50+4 }, "a and b once, then a and c")
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Equal(t, map[string]int{"a": 2, "b": 1, "c": 1}, map[string]int{"a": c.seen["a"], "b": c.seen["b"], "c": c.seen["c"]})
}
