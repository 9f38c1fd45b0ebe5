package cluster

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With a placement hook on every node, the agents of a node that dies are
// spawned again on exactly one survivor each (chosen by rendezvous
// hashing), which takes over their queues: nothing sent before or after
// the death is lost, and no survivor adds a second replica.
func TestPlacementHookTakesOverADeadNodesAgents(t *testing.T) {
	t.Parallel()
	const agents, perAgent = 6, 50
	c := newCounter()
	var mu sync.Mutex
	asked := map[acl.AgentID][]string{} // orphan → nodes whose hook placed it
	var declined atomic.Int64
	hook := func(node string) PlacementFunc {
		return func(_ context.Context, o Orphan) (caxton.AgentSpec, bool) {
			if o.Name == "not-mine" {
				declined.Add(1)
				return caxton.AgentSpec{}, false
			}
			mu.Lock()
			asked[o.Name] = append(asked[o.Name], node)
			mu.Unlock()
			return caxton.AgentSpec{Name: o.Name, Capabilities: o.Capabilities, Handler: c.handler()}, true
		}
	}
	tc := newTestCluster(t, 1, 0)
	for i := range 3 {
		tc.join(i, WithPlacement(hook(nodeName(i))))
	}
	ctx := testCtx(t)
	var names []acl.AgentID
	for i := range agents {
		name := acl.AgentID(fmt.Sprint("worker-", i))
		names = append(names, name)
		require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: name, Capabilities: []string{"work"}, Handler: c.handler()}))
	}
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "not-mine", Handler: c.handler()}))
	send := func(from, to int) {
		t.Helper()
		for _, name := range names {
			for k := from; k < to; k++ {
				require.NoError(t, tc.rts[0].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{name}, Content: fmt.Appendf(nil, "%s/%d", name, k)}))
			}
		}
	}
	send(0, perAgent/2)
	tc.crash(1)
	send(perAgent/2, perAgent) // queued in JetStream while nobody hosts them

	eventually(t, func() bool {
		placed := 0
		for _, e := range tc.nodes[0].Directory() {
			if e.Name != "not-mine" && len(e.Live) == 1 && e.Live[0] != "n1" {
				placed++
			}
		}
		return placed == agents
	}, "every worker placed on a survivor")
	eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, name := range names {
			for k := range perAgent {
				if c.seen[fmt.Sprintf("%s/%d", name, k)] == 0 {
					return false
				}
			}
		}
		return true
	}, "every message handled")

	mu.Lock()
	defer mu.Unlock()
	for _, name := range names {
		assert.Len(t, asked[name], 1, "%s placed by one survivor: %v", name, asked[name])
	}
	assert.Positive(t, declined.Load(), "the declined orphan was offered")
	var orphans []acl.AgentID
	for _, o := range tc.nodes[0].Orphans() {
		orphans = append(orphans, o.Name)
		assert.Equal(t, []string{"n1"}, o.Former)
	}
	assert.Equal(t, []acl.AgentID{"not-mine"}, orphans, "a declined orphan stays listed for the host")
}

func TestWithPlacementRefusesNil(t *testing.T) {
	t.Parallel()
	_, err := New("n", WithURLs("nats://127.0.0.1:1"), WithPlacement(nil))
	require.ErrorIs(t, err, ErrInvalidConfig)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "WithPlacement", ce.Field)
}
