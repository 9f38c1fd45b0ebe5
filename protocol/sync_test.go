package protocol_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loopback is an Endpoint whose sends come back to itself, in order.
type loopback struct{ ch chan *acl.Message }

func (l loopback) Name() acl.AgentID { return "self" }
func (l loopback) Send(ctx context.Context, m *acl.Message) error {
	m.Sender = "self"
	select {
	case l.ch <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (l loopback) Receive(ctx context.Context) (*acl.Message, error) {
	select {
	case m := <-l.ch:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Sync returns only once what reached the endpoint before it was handed
// to its conversation: a phase ending at a deadline sees every in-time
// answer even when the reader lags.
func TestSyncWaitsForTheReaderToCatchUp(t *testing.T) {
	ep := loopback{ch: make(chan *acl.Message, 100)}
	c := protocol.NewClient(ep)
	defer c.Close()
	cv, err := c.Open("conv")
	require.NoError(t, err)
	for i := 0; i < 50; i++ {
		ep.ch <- &acl.Message{Performative: acl.Inform, Sender: "peer", ConversationID: "conv"}
	}
	require.NoError(t, c.Sync(context.Background()))
	assert.Equal(t, 50, cv.Pending(), "all 50 were dispatched before Sync returned")
	_, ok := cv.TryReceive()
	assert.True(t, ok)

	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.Sync(context.Background()), protocol.ErrClosed)
}
