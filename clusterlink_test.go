package caxton_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/store/durable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkOnly is a Cluster with no other nodes: it keeps the link the
// runtime attaches, through which a real cluster delivers what other
// nodes send.
type linkOnly struct{ link *caxton.ClusterLink }

func (c *linkOnly) Attach(l *caxton.ClusterLink) error { c.link = l; return nil }
func (*linkOnly) ReplyRoute(*acl.Message, acl.AgentID) (caxton.Remote, bool) {
	return nil, false
}
func (*linkOnly) Resolve(acl.AgentID) (caxton.Remote, bool)     { return nil, false }
func (*linkOnly) TopicSubscribers(string) []caxton.Remote       { return nil }
func (*linkOnly) Capable(string) []acl.AgentID                  { return nil }
func (*linkOnly) Claim(context.Context, caxton.AgentSpec) error { return nil }
func (*linkOnly) Release(context.Context, acl.AgentID)          {}
func (*linkOnly) Close(context.Context) error                   { return nil }

// TryDeliver never waits: a full mailbox is ErrMailboxFull even for an
// agent whose overflow policy blocks (Deliver would wait for room), and
// the message is queued once there is room.
func TestTryDeliverDoesNotWaitForRoom(t *testing.T) {
	t.Parallel()
	c := &linkOnly{}
	rt, err := caxton.New(caxton.WithCluster(c))
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	ctx := caxtontest.Context(t)
	gate, started := make(chan struct{}), make(chan struct{}, 4)
	got := make(chan string, 4)
	require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "slow", MailboxCapacity: 1, Overflow: caxton.OverflowBlock,
		Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
			started <- struct{}{}
			<-gate
			got <- string(mc.Message().Content)
			return nil
		})}))
	msg := func(content string) *acl.Message {
		m := acl.New(acl.Inform, "slow")
		m.Sender, m.Content, m.ID, m.CreatedAt = "elsewhere", []byte(content), acl.NewID(), time.Now()
		return m
	}
	acked := make(chan string, 4)
	ack := func(s string) func() { return func() { acked <- s } }
	require.NoError(t, c.link.TryDeliver(msg("1"), "slow", ack("1"), nil))
	<-started // 1 in the handler
	require.NoError(t, c.link.TryDeliver(msg("2"), "slow", ack("2"), nil))
	require.ErrorIs(t, c.link.TryDeliver(msg("3"), "slow", ack("3"), nil), caxton.ErrMailboxFull, "2 fills the mailbox")

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, c.link.Deliver(short, msg("3"), "slow", ack("3"), nil), context.DeadlineExceeded, "Deliver waits for room")

	close(gate)
	assert.Equal(t, "1", <-got)
	assert.Equal(t, "2", <-got)
	assert.ElementsMatch(t, []string{"1", "2"}, []string{<-acked, <-acked})
	require.NoError(t, c.link.TryDeliver(msg("3"), "slow", ack("3"), nil))
	assert.Equal(t, "3", <-got)
	assert.Equal(t, "3", <-acked)
}

// Durable tells a cluster whether queueing waits for a disk sync.
func TestClusterLinkSaysWhetherMailboxesAreOnDisk(t *testing.T) {
	t.Parallel()
	mem := &linkOnly{}
	rt, err := caxton.New(caxton.WithCluster(mem))
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	assert.False(t, mem.link.Durable())

	st, err := durable.Open(t.TempDir())
	require.NoError(t, err)
	disk := &linkOnly{}
	rt2, err := caxton.New(caxton.WithCluster(disk), caxton.WithStore(st))
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt2.Close(context.Background()) })
	assert.True(t, disk.link.Durable())
}
