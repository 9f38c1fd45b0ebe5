package durable_test

import (
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/durable"
	"github.com/caxton-go/caxton/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The durable store keeps the same contract as the memory store while it is
// open (storetest); what only it does — survive a reopen — is in
// reopen_test.go.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openStore(t, t.TempDir()) })
}

// Settling is strict: only an envelope this queue handed out can be
// released, and a closed queue takes nothing.
func TestContractStrictSettling(t *testing.T) {
	q, err := openStore(t, t.TempDir()).OpenQueue("q")
	require.NoError(t, err)
	require.ErrorIs(t, q.Release(env("stranger", acl.PriorityLow)), durable.ErrNotInFlight)
	require.NoError(t, q.Close())
	assert.ErrorIs(t, q.Push(env("late", 0)), store.ErrClosed)
}
