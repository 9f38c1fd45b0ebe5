package store_test

import (
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var _ store.Store = (*store.Memory)(nil)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return store.NewMemory() })
}

// The memory store takes back any envelope it is given (it keeps no record
// of what it handed out); the durable store is stricter.
func TestMemoryReleaseAcceptsAnyEnvelope(t *testing.T) {
	q, err := store.NewMemory().OpenQueue("q")
	require.NoError(t, err)
	require.NoError(t, q.Release(storetest.Env("into empty", acl.PriorityLow)))
	assert.Equal(t, []string{"into empty"}, storetest.Drain(q))
}
