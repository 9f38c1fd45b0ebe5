package mcp

import (
	"fmt"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
)

// Agents that stop calling do not keep their buckets forever: once the
// map is large, buckets that are full again (as good as new) are dropped.
func TestLimitersForgetIdleAgents(t *testing.T) {
	l := limiters{m: make(map[acl.AgentID]*limiter)}
	g := tool.Grant{Rate: 1, Burst: 1}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range sweepAt {
		assert.Empty(t, l.allow(acl.AgentID(fmt.Sprint("idle-", i)), g, now))
	}
	assert.Len(t, l.m, sweepAt)
	assert.Empty(t, l.allow("busy", g, now), "a new agent before the buckets refill: nothing to forget")
	assert.Len(t, l.m, sweepAt+1)

	later := now.Add(time.Second)
	assert.NotEmpty(t, l.allow("busy", g, now), "busy is out of tokens")
	assert.Empty(t, l.allow("newcomer", g, later))
	assert.Len(t, l.m, 1, "every full bucket was dropped, busy's too; only the newcomer's is left")
}
