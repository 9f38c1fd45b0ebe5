package mailbox

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// directQueue is a memory queue that does not say it is Volatile, so the
// mailbox treats it as a store that must hold envelopes (the durable path).
type directQueue struct{ store.Queue }

func TestAckRecyclesInMemoryEnvelopesOnly(t *testing.T) {
	tests := []struct {
		name    string
		wrap    func(store.Queue) store.Queue
		recycle bool
	}{
		{"in memory", func(q store.Queue) store.Queue { return q }, true},
		{"store that must hold envelopes", func(q store.Queue) store.Queue { return directQueue{q} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := store.NewMemory().OpenQueue("mb")
			require.NoError(t, err)
			m := New(tt.wrap(q), 4, func() {})
			msg := &acl.Message{Performative: acl.Inform}
			acked := 0
			require.NoError(t, m.Push(context.Background(), store.Envelope{Msg: msg, Receiver: "r", OnAck: func() { acked++ }}, false, nil))
			es := m.Take(make([]*store.Envelope, 1))
			require.Len(t, es, 1)
			e := es[0]
			require.Same(t, msg, e.Msg)
			n := nodeOf(e)
			require.Same(t, e, &n.env, "the envelope lives in its node")

			require.NoError(t, m.Ack(e))
			assert.Equal(t, 1, acked, "OnAck ran before the envelope was recycled")
			if tt.recycle {
				// Recycled: zeroed, so the free node keeps no message alive.
				assert.Equal(t, store.Envelope{}, n.env)
			} else {
				// A durable queue may keep the pointer: left as it was.
				assert.Same(t, msg, n.env.Msg)
			}
			m.Done(1)
			assert.Equal(t, 0, m.Load())
		})
	}
}

// A refused push (full, closed) leaves nothing queued.
func TestRefusedPushLeavesNothing(t *testing.T) {
	q, err := store.NewMemory().OpenQueue("mb")
	require.NoError(t, err)
	m := New(q, 1, func() {})
	ctx := context.Background()
	env := store.Envelope{Msg: &acl.Message{Performative: acl.Inform}, Receiver: "r"}
	require.NoError(t, m.Push(ctx, env, false, nil))
	require.ErrorIs(t, m.Push(ctx, env, false, nil), ErrFull)
	m.Close()
	require.ErrorIs(t, m.Push(ctx, env, false, nil), ErrClosed)
	assert.Equal(t, 0, m.Depth())
}
