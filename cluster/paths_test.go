package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/protocol"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A topic subscriber on another node is reached through its durable
// JetStream queue: a publish made while the subscriber's node is dead
// waits there, and the subscriber spawned again on a survivor gets it,
// once.
func TestTopicReachesARemoteDurableQueue(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3, 3)
	ctx := testCtx(t)
	heard := make(chan string, 8)
	listener := func(node int) caxton.AgentSpec {
		return caxton.AgentSpec{Name: "listener", Topics: []string{"alerts"},
			Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
				heard <- fmt.Sprintf("%s on %s", mc.Message().Content, nodeName(node))
				return nil
			})}
	}
	require.NoError(t, tc.rts[1].Spawn(ctx, listener(1)))
	eventually(t, func() bool { return slices.Contains(tc.rts[0].Subscribers("alerts"), "listener") }, "n0 sees n1's subscriber")

	publish := func(what string) {
		t.Helper()
		require.NoError(t, tc.rts[0].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{acl.Topic("alerts")}, Content: []byte(what)}))
	}
	publish("first")
	require.Equal(t, "first on n1", receive(t, ctx, heard))

	tc.crash(1)
	publish("while n1 is dead") // into listener's queue: nobody consumes it now
	eventually(t, func() bool { return !slices.Contains(tc.nodes[2].Nodes(), "n1") }, "n1's lease to end")
	require.NoError(t, tc.rts[2].Spawn(ctx, listener(2)))
	assert.Equal(t, "while n1 is dead on n2", receive(t, ctx, heard))
	select {
	case s := <-heard:
		t.Fatalf("heard again: %s", s)
	case <-time.After(200 * time.Millisecond):
	}
}

func receive(t *testing.T, ctx context.Context, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-ctx.Done():
		t.Fatal("nothing arrived")
		return ""
	}
}

// A wasm agent (the C echo guest) on one node answers a Request from
// another, and wasm Contract Net bidders on two nodes compete with a
// native one on a third: the sandbox path and the cluster path compose.
func TestWasmAgentsAcrossNodes(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3, 3)
	ctx := testCtx(t)
	agents := filepath.Join(testguest.ModuleRoot(), "guest", "c", "agents")
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "wasm-echo", Wasm: &caxton.WasmSpec{File: filepath.Join(agents, "echo.wasm")}}))

	r, err := tc.rts[0].Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"wasm-echo"}, Content: []byte("over the wire")})
	require.NoError(t, err)
	assert.Equal(t, acl.AgentID("wasm-echo"), r.Sender)
	assert.Equal(t, acl.Inform, r.Performative)
	assert.Equal(t, "over the wire", string(r.Content))

	for i, rate := range map[int]string{1: "3", 2: "2"} {
		require.NoError(t, tc.rts[i].Spawn(ctx, caxton.AgentSpec{Name: acl.AgentID(fmt.Sprint("wasm-bidder-", i)), Capabilities: []string{"compute"},
			Wasm: &caxton.WasmSpec{File: filepath.Join(agents, "bidder.wasm"), Grants: sandbox.Grants{Env: map[string]string{"RATE": rate}}}}))
	}
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "native-bidder", Capabilities: []string{"compute"},
		Handler: caxton.ProtocolHandler(&contractnet.Participant{
			Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{Cost: 40}, nil
			},
			Execute: func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
				return []byte("native did it"), nil
			},
		})}))
	rt := tc.rts[0]
	eventually(t, func() bool { return len(rt.Capable("compute")) == 3 }, "n0 sees the three bidders")
	ib, err := rt.NewInbox("buyer")
	require.NoError(t, err)
	client := protocol.NewClient(ib)
	defer client.Close()
	buyer := &contractnet.Initiator{Client: client, Directory: rt, Select: contractnet.LowestCost(1)}
	cfp := acl.New(acl.CFP, contractnet.Capability("compute"))
	cfp.Content, _ = json.Marshal(map[string]any{"name": "render", "kind": "text", "size": 10})
	cfp.ReplyBy = time.Now().Add(20 * time.Second)
	res, err := buyer.Run(ctx, cfp)
	require.NoError(t, err)
	require.Len(t, res.Rounds[0].Proposals, 3, "a proposal from every node")
	w := res.Outcomes[0]
	assert.Equal(t, acl.AgentID("wasm-bidder-2"), w.Participant, "RATE 2 × size 10 = 20 beats 30 and 40")
	assert.Contains(t, string(w.Result()), "done by a C agent for 20")
}

// A content rule on one node whose target is an agent on another: every
// matching message sent through that node also reaches the target's
// queue; an unknown target is refused as locally.
func TestContentRulesAcrossNodes(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 2)
	ctx := testCtx(t)
	audited := make(chan string, 8)
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "auditor",
		Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
			audited <- string(mc.Message().Content)
			return nil
		})}))
	got := make(chan string, 8)
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "clerk",
		Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
			got <- string(mc.Message().Content)
			return nil
		})}))

	_, err := tc.rts[0].AddRule(acl.MatchOntology("payments"), "nobody")
	require.ErrorIs(t, err, caxton.ErrAgentNotFound)
	id, err := tc.rts[0].AddRule(acl.MatchOntology("payments"), "auditor")
	require.NoError(t, err, "a rule may target an agent on another node")

	send := func(ontology, content string, to ...acl.AgentID) {
		t.Helper()
		require.NoError(t, tc.rts[0].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: to, Ontology: ontology, Content: []byte(content)}))
	}
	send("payments", "pay 10", "clerk")
	send("weather", "rain", "clerk")
	send("payments", "pay 20", "clerk", "auditor") // a direct receiver too: delivered once
	assert.Equal(t, "pay 10", receive(t, ctx, got))
	assert.Equal(t, "rain", receive(t, ctx, got))
	assert.Equal(t, "pay 20", receive(t, ctx, got))
	assert.Equal(t, "pay 10", receive(t, ctx, audited))
	assert.Equal(t, "pay 20", receive(t, ctx, audited), "the weather report did not match; pay 20 came once")

	require.NoError(t, tc.rts[0].RemoveRule(id))
	send("payments", "pay 30", "clerk")
	assert.Equal(t, "pay 30", receive(t, ctx, got))
	select {
	case s := <-audited:
		t.Fatalf("the removed rule still routed %q", s)
	case <-time.After(200 * time.Millisecond):
	}
}
