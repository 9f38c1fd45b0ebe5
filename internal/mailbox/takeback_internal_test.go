package mailbox

import (
	"testing"

	"github.com/caxton-go/caxton/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A worker that Idle retires and then takes the work back (a sender linked
// its message in between) goes on with the stop channel it holds: a
// Pause must still close it. (A first version dropped the channel on
// retirement, and a worker that took work back then ignored Stop.)
func TestAWorkerThatTakesWorkBackKeepsItsStopChannel(t *testing.T) {
	q, err := store.NewMemory().OpenQueue("tb")
	require.NoError(t, err)
	m := New(q, 8, func() {})
	m.Resume()
	require.True(t, m.state.CompareAndSwap(0, stRunning), "this test is the worker")
	stop := m.Stopping()

	// A sender between its swap and its link while Idle looks.
	n := &node{}
	prev := m.head.Swap(n)
	m.depth.Add(1)
	m.mu.Lock()
	require.False(t, m.hasWorkLocked(), "the arrival is not linked yet")
	m.retireLocked()
	prev.next.Store(n) // the sender links; it saw stRunning and starts no worker
	require.True(t, m.takeBackLocked(), "the worker takes the arrival back")
	m.mu.Unlock()

	m.Pause()
	assert.True(t, isClosed(stop), "Pause closes the channel the running worker holds")
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
