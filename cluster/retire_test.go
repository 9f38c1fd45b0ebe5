package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// consumers lists the mail stream's consumers as node sees them.
func consumers(t *testing.T, n *Node) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	lister := n.stream.ConsumerNames(testCtx(t))
	for name := range lister.Name() {
		names[name] = true
	}
	require.NoError(t, lister.Err())
	return names
}

// awaitBeats waits until n has renewed its lease k more times.
func awaitBeats(t *testing.T, n *Node, k uint64) {
	t.Helper()
	rev := func() uint64 {
		e, err := n.dir.nodes.Get(testCtx(t), n.name)
		require.NoError(t, err)
		return e.Revision()
	}
	start := rev()
	seen := 0
	eventually(t, func() bool {
		if r := rev(); r > start {
			start, seen = r, seen+1
		}
		return uint64(seen) >= k
	}, fmt.Sprintf("%d heartbeats of %s", k, n.name))
}

// The mail consumer of a node gone for good is deleted after the retention
// by the node serving it — but not while the directory still places an
// agent on that node (its mail waits for a takeover) — and a node that
// comes back under the name makes its consumer again and gets its mail.
func TestDeadNodesConsumersAreRetired(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 3, WithDeadNodeRetention(time.Second))
	ctx := testCtx(t)
	require.NoError(t, tc.rts[2].Spawn(ctx, caxton.AgentSpec{Name: "kept", Handler: newCounter().handler()}))
	require.Equal(t, map[string]bool{"node_n0": true, "node_n1": true, "node_n2": true, "park": true}, consumers(t, tc.nodes[0]))

	tc.crash(1) // hosts nothing
	tc.crash(2) // hosts "kept", which stays placed on n2
	eventually(t, func() bool { return !consumers(t, tc.nodes[0])["node_n1"] }, "n1's consumer to be retired")
	awaitBeats(t, tc.nodes[0], 3) // each beat also runs the retirement check
	assert.True(t, consumers(t, tc.nodes[0])["node_n2"], "n2's consumer stays: the directory still places kept there")

	// n1 starts again: its consumer is made anew, and its agents get mail.
	tc.join(1, WithDeadNodeRetention(time.Second))
	c := newCounter()
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "back", Handler: c.handler()}))
	assert.True(t, consumers(t, tc.nodes[0])["node_n1"])
	const n = 20
	for i := range n {
		require.NoError(t, tc.rts[0].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"back"}, Content: fmt.Append(nil, i)}))
	}
	eventually(t, func() bool { lost, _ := c.missing(n); return len(lost) == 0 }, "mail for the restarted n1's agent")
}

func TestDeadNodeRetentionRefusesANegativeTime(t *testing.T) {
	_, err := New("n", WithURLs("nats://127.0.0.1:1"), WithDeadNodeRetention(-time.Second))
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "WithDeadNodeRetention")
}
