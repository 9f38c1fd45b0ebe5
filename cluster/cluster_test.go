package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const wait = 30 * time.Second // safety net for every wait below

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	require.Eventually(t, cond, wait, 5*time.Millisecond, what)
}

// echo answers every request with "<self>: <content>".
func echo(ctx context.Context, mc *caxton.MessageContext) error {
	return mc.Reply(ctx, acl.Inform, fmt.Appendf(nil, "%s: %s", mc.Self(), mc.Message().Content))
}

func TestAcrossNodes(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3, 3)
	ctx := testCtx(t)
	heard := make(chan string, 16)
	for i, rt := range tc.rts {
		name := acl.AgentID(fmt.Sprintf("echo-%d", i))
		require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: name, Capabilities: []string{"echo"}, Topics: []string{"news"},
			Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
				if mc.Message().Performative == acl.Inform {
					heard <- fmt.Sprintf("%s heard %s", mc.Self(), mc.Message().Content)
					return nil
				}
				return echo(ctx, mc)
			})}))
	}
	// a relay on n2 asks echo-0 (on n0) from inside its handler
	require.NoError(t, tc.rts[2].Spawn(ctx, caxton.AgentSpec{Name: "relay",
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			r, err := mc.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo-0"}, Content: mc.Message().Content})
			if err != nil {
				return err
			}
			return mc.Reply(ctx, acl.Inform, append([]byte("via relay, "), r.Content...))
		})}))

	t.Run("request", func(t *testing.T) {
		r, err := tc.rts[0].Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo-1"}, Content: []byte("hi")})
		require.NoError(t, err)
		assert.Equal(t, acl.AgentID("echo-1"), r.Sender)
		assert.Equal(t, "echo-1: hi", string(r.Content))
	})
	t.Run("request from an agent, three nodes", func(t *testing.T) {
		r, err := tc.rts[1].Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"relay"}, Content: []byte("x")})
		require.NoError(t, err)
		assert.Equal(t, "via relay, echo-0: x", string(r.Content))
	})
	t.Run("capable and subscribers", func(t *testing.T) {
		want := []acl.AgentID{"echo-0", "echo-1", "echo-2"}
		for _, rt := range tc.rts {
			eventually(t, func() bool { return slices.Equal(rt.Capable("echo"), want) }, "every node lists every echo agent")
			assert.ElementsMatch(t, want, rt.Subscribers("news"))
		}
	})
	t.Run("topic reaches every node once", func(t *testing.T) {
		require.NoError(t, tc.rts[1].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{acl.Topic("news")}, Content: []byte("rain")}))
		var got []string
		for range 3 {
			select {
			case s := <-heard:
				got = append(got, s)
			case <-ctx.Done():
				t.Fatalf("topic reached only %v", got)
			}
		}
		assert.ElementsMatch(t, []string{"echo-0 heard rain", "echo-1 heard rain", "echo-2 heard rain"}, got)
		select {
		case s := <-heard:
			t.Fatalf("a subscriber heard it twice: %s", s)
		case <-time.After(200 * time.Millisecond):
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		err := tc.rts[0].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"nobody"}})
		require.ErrorIs(t, err, caxton.ErrAgentNotFound)
	})
}

func TestContractNetAcrossNodes(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3, 3)
	ctx := testCtx(t)
	for i, rt := range tc.rts {
		name := acl.AgentID(fmt.Sprintf("carrier-%d", i))
		price := float64(500 - 100*i)
		require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: name, Capabilities: []string{"transport"},
			Handler: caxton.ProtocolHandler(&contractnet.Participant{
				Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
					return contractnet.Offer{Cost: price}, nil
				},
				Execute: func(_ context.Context, cfp, _ *acl.Message, o contractnet.Offer) ([]byte, error) {
					return fmt.Appendf(nil, "%s moved %s for %.0f", name, cfp.Content, o.Cost), nil
				},
			})}))
	}
	rt := tc.rts[0]
	eventually(t, func() bool { return len(rt.Capable("transport")) == 3 }, "n0 sees the three carriers")
	ib, err := rt.NewInbox("shipper")
	require.NoError(t, err)
	client := protocol.NewClient(ib)
	defer client.Close()
	shipper := &contractnet.Initiator{Client: client, Directory: rt, Select: contractnet.LowestCost(1)}
	cfp := acl.New(acl.CFP, contractnet.Capability("transport"))
	cfp.Content = []byte("12 pallets")
	cfp.ReplyBy = time.Now().Add(20 * time.Second)
	res, err := shipper.Run(ctx, cfp)
	require.NoError(t, err)
	require.Len(t, res.Rounds[0].Proposals, 3)
	w := res.Outcomes[0]
	assert.Equal(t, acl.AgentID("carrier-2"), w.Participant)
	assert.Equal(t, "carrier-2 moved 12 pallets for 300", string(w.Result()))
}

func TestNamesAreUniqueAcrossNodes(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 2)
	ctx := testCtx(t)
	h := caxton.HandlerFunc(echo)
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "solo", Capabilities: []string{"a"}, Handler: h}))
	err := tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "solo", Capabilities: []string{"b"}, Handler: h})
	require.ErrorIs(t, err, caxton.ErrAgentExists)
	assert.ErrorContains(t, err, "n0")
	_, err = tc.rts[1].Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"solo"}, Content: []byte("still there")})
	require.NoError(t, err, "the refused Spawn left n0's agent reachable")

	// the same declaration adds replicas on another node
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "solo", Capabilities: []string{"a"}, Handler: h}))
	eventually(t, func() bool {
		for _, e := range tc.nodes[0].Directory() {
			if e.Name == "solo" {
				return slices.Equal(e.Live, []string{"n0", "n1"})
			}
		}
		return false
	}, "solo placed on n0 and n1")

	// removed everywhere, the name is free again
	require.NoError(t, tc.rts[0].Remove(ctx, "solo"))
	require.NoError(t, tc.rts[1].Remove(ctx, "solo"))
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "solo", Capabilities: []string{"c"}, Handler: h}))
}

// counter records the contents its agent handled.
type counter struct {
	mu   sync.Mutex
	seen map[string]int
	n    atomic.Int64
}

func newCounter() *counter { return &counter{seen: map[string]int{}} }

func (c *counter) handler() caxton.Handler {
	return caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
		c.mu.Lock()
		c.seen[string(mc.Message().Content)]++
		c.mu.Unlock()
		c.n.Add(1)
		return nil
	})
}

// missing returns the contents 0..n-1 not seen, and how many were seen
// more than once.
func (c *counter) missing(n int) (lost []int, dups int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range n {
		switch k := c.seen[fmt.Sprint(i)]; {
		case k == 0:
			lost = append(lost, i)
		case k > 1:
			dups += k - 1
		}
	}
	return lost, dups
}

func (c *counter) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func TestReplicasShareTheQueue(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 3)
	ctx := testCtx(t)
	c := newCounter()
	for _, rt := range tc.rts[:2] {
		require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "shared", Handler: c.handler()}))
	}
	const n = 400
	for i := range n {
		require.NoError(t, tc.rts[2].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"shared"}, Content: []byte(fmt.Sprint(i))}))
	}
	eventually(t, func() bool { return c.distinct() == n }, "every message handled")
	lost, dups := c.missing(n)
	assert.Empty(t, lost)
	assert.Zero(t, dups, "no failure happened, so nothing is redelivered")
}

func TestFailoverTakesOverTheQueue(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 3)
	ctx := testCtx(t)
	gate := make(chan struct{})
	var first atomic.Int64
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "worker",
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			first.Add(1)
			select { // stuck: the node dies with these messages taken, not acknowledged
			case <-gate:
			case <-ctx.Done():
			}
			return ctx.Err()
		})}))
	defer close(gate)
	const n = 300
	for i := range n {
		require.NoError(t, tc.rts[0].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"worker"}, Content: []byte(fmt.Sprint(i))}))
	}
	eventually(t, func() bool { return first.Load() > 0 }, "n1's worker took a message")
	// a request waiting on the dying node's agent ends at its deadline
	rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, err := tc.rts[2].Request(rctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"worker"}})
	require.Error(t, err)
	tc.crash(1)

	c := newCounter()
	spawn := caxton.AgentSpec{Name: "worker", Handler: c.handler()}
	eventually(t, func() bool { return !slices.Contains(tc.nodes[2].Nodes(), "n1") }, "n1's lease to end")
	require.NoError(t, tc.rts[2].Spawn(ctx, spawn))
	eventually(t, func() bool { lost, _ := c.missing(n); return len(lost) == 0 }, "the survivor handled every message")
}

func TestRequestToADeadNodeEndsAtItsDeadline(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 2)
	ctx := testCtx(t)
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "gone", Handler: caxton.HandlerFunc(echo)}))
	_, err := tc.rts[0].Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"gone"}, Content: []byte("1")})
	require.NoError(t, err)
	tc.crash(1)
	rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = tc.rts[0].Request(rctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"gone"}, Content: []byte("2")})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second)
}
