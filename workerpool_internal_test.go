package caxton

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (p *workerPool) parkedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}

// Retired workers park (never more than the pool's bound), a parked one
// takes the next instance that needs a worker, and Close releases them all.
func TestWorkerPoolParksReusesAndCloses(t *testing.T) {
	ctx := context.Background()
	rt, err := New()
	require.NoError(t, err)
	const agents = 200
	echo := HandlerFunc(func(ctx context.Context, mc *MessageContext) error {
		return mc.Reply(ctx, acl.Inform, nil)
	})
	for i := range agents {
		require.NoError(t, rt.Spawn(ctx, AgentSpec{Name: acl.AgentID("a" + strconv.Itoa(i)), Handler: echo}))
	}
	ask := func(i int) {
		_, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{acl.AgentID("a" + strconv.Itoa(i))}})
		require.NoError(t, err)
	}
	for i := range agents {
		ask(i)
	}
	// A worker parks just after its reply went out: wait for one.
	require.Eventually(t, func() bool { return rt.workers.parkedCount() > 0 }, 10*time.Second, time.Millisecond)
	assert.LessOrEqual(t, rt.workers.parkedCount(), rt.workers.max)

	before := rt.workers.parkedCount()
	ask(0) // served by a parked goroutine (the pool is not empty)
	require.Eventually(t, func() bool { return rt.workers.parkedCount() >= before }, 10*time.Second, time.Millisecond,
		"the reused goroutine parks again")

	require.NoError(t, rt.Close(ctx))
	assert.Zero(t, rt.workers.parkedCount())
	assert.False(t, rt.workers.park(make(chan *instance, 1)), "a closed pool takes no goroutine")
}
