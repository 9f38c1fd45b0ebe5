package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lastSeq is the mail stream's last sequence: how many frames JetStream
// has stored so far.
func lastSeq(t *testing.T, n *Node) uint64 {
	t.Helper()
	info, err := n.stream.Info(testCtx(t))
	require.NoError(t, err)
	return info.State.LastSeq
}

// With WithDirectRequests a Request's message goes over core NATS (the
// stream stores nothing), the reply comes back, and a plain Send still
// goes through JetStream.
func TestDirectRequests(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 2, WithDirectRequests())
	ctx := testCtx(t)
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(echo)}))
	before := lastSeq(t, tc.nodes[0])
	for i := range 20 {
		reply, err := tc.rts[0].Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}, Content: fmt.Append(nil, i)})
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("echo: %d", i), string(reply.Content))
	}
	assert.Equal(t, before, lastSeq(t, tc.nodes[0]), "requests went through the stream")

	require.NoError(t, tc.rts[0].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"echo"}, Content: []byte("plain")}))
	assert.Greater(t, lastSeq(t, tc.nodes[0]), before, "a plain send is durable")

	// a dead node's agent: the request ends at its deadline
	tc.crash(1)
	rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err := tc.rts[0].Request(rctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// A direct request that reaches a node no longer hosting its receiver is
// handed to the receiver's queue, signed by the node that asked, and
// answered from where it moved — to the node that asked. (With the queued
// copy signed by the node it reached, the answer went there and the
// Request ended at its deadline: the flake this test had when it relied on
// n0's directory being stale by chance.)
func TestDirectRequestToAnAgentThatMoved(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 3, WithDirectRequests())
	ctx := testCtx(t)
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(echo)}))
	_, err := tc.rts[0].Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}, Content: []byte("1")})
	require.NoError(t, err)
	stale, _ := tc.nodes[0].dir.lookup("echo")
	require.NoError(t, tc.rts[1].Remove(ctx, "echo"))
	require.NoError(t, tc.rts[2].Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(echo)}))
	eventually(t, func() bool { r, _ := tc.nodes[0].dir.lookup("echo"); _, ok := r.Placements["n2"]; return ok }, "n0 to see echo on n2")
	// n0 still sees echo on n1 when it sends the request
	d := tc.nodes[0].dir
	d.mu.Lock()
	d.agentRecs["echo"] = stale
	d.mu.Unlock()
	require.Equal(t, "n1", d.home("echo"))
	reply, err := tc.rts[0].Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}, Content: []byte("2")})
	require.NoError(t, err)
	assert.Equal(t, "echo: 2", string(reply.Content))
}

// Each node has one mail consumer, however many agents it hosts; a dead
// node's consumer is served by a survivor, which hands its frames to the
// agent's new node.
func TestOneConsumerPerNode(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 3)
	ctx := testCtx(t)
	c := newCounter()
	for i := range 20 {
		require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: acl.AgentID(fmt.Sprint("a", i)), Handler: c.handler()}))
	}
	assert.Equal(t, map[string]bool{"node_n0": true, "node_n1": true, "node_n2": true, "park": true}, consumers(t, tc.nodes[0]))

	// n1's agents stuck, then n1 dies: its frames wait in its consumer
	gate := make(chan struct{})
	defer close(gate)
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "stuck",
		Handler: caxton.HandlerFunc(func(ctx context.Context, _ *caxton.MessageContext) error {
			select {
			case <-gate:
			case <-ctx.Done():
			}
			return ctx.Err()
		})}))
	const n = 200
	for i := range n {
		require.NoError(t, tc.rts[0].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"stuck"}, Content: fmt.Append(nil, i)}))
	}
	tc.crash(1)
	eventually(t, func() bool { return len(tc.nodes[2].Nodes()) == 2 }, "n1's lease to end")
	c2 := newCounter()
	require.NoError(t, tc.rts[2].Spawn(ctx, caxton.AgentSpec{Name: "stuck", Handler: c2.handler()}))
	eventually(t, func() bool { lost, _ := c2.missing(n); return len(lost) == 0 }, "n1's frames handled on n2")
}

// Removing one replica of an agent that another node also hosts hands the
// frames that node held, and those that reach it afterwards, to the other
// replica: nothing is dead-lettered, nothing lost.
func TestRemovingAReplicaHandsItsMailOver(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 3)
	ctx := testCtx(t)
	c := newCounter()
	for _, rt := range tc.rts[:2] {
		require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "shared", Handler: c.handler()}))
	}
	// n2's messages to shared all go to one replica: remove that one
	eventually(t, func() bool { e, _ := tc.nodes[2].dir.lookup("shared"); return len(e.Placements) == 2 }, "n2 to see both replicas")
	home := tc.nodes[2].dir.home("shared")
	gone := map[string]int{"n0": 0, "n1": 1}[home]
	require.Contains(t, []string{"n0", "n1"}, home)
	const n = 400
	for i := range n {
		if i == n/2 {
			require.NoError(t, tc.rts[gone].Remove(ctx, "shared"))
		}
		require.NoError(t, tc.rts[2].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"shared"}, Content: fmt.Append(nil, i)}))
	}
	eventually(t, func() bool { lost, _ := c.missing(n); return len(lost) == 0 }, "every message handled by a replica")
	dls, err := tc.rts[gone].DeadLetters(ctx)
	require.NoError(t, err)
	assert.Empty(t, dls, "the removed replica dead-lettered mail")
}
