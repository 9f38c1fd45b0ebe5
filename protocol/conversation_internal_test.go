package protocol

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/stretchr/testify/require"
)

// idleEndpoint never receives anything; sends are discarded.
type idleEndpoint struct{}

func (idleEndpoint) Name() acl.AgentID                        { return "me" }
func (idleEndpoint) Send(context.Context, *acl.Message) error { return nil }
func (idleEndpoint) Receive(ctx context.Context) (*acl.Message, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A message dispatched while its conversation ends must reach either the
// conversation's receiver or the after-end handler — never stay stranded in
// the queue of the ended conversation.
func TestDispatchRacingEndWithLosesNothing(t *testing.T) {
	t.Parallel()
	c := NewClient(idleEndpoint{})
	defer c.Close()
	for i := range 2000 {
		cv, err := c.Open("")
		require.NoError(t, err)
		m := &acl.Message{Performative: acl.Inform, Sender: "peer", ConversationID: cv.ID()}
		var handled atomic.Int32
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); <-start; c.dispatch(m) }()
		go func() {
			defer wg.Done()
			<-start
			cv.EndWith(func(context.Context, *acl.Message) { handled.Add(1) })
		}()
		close(start)
		wg.Wait()
		require.Equal(t, int32(1), handled.Load(), "iteration %d: the message went nowhere (pending %d)", i, cv.Pending())
		require.Zero(t, cv.Pending())
	}
}
