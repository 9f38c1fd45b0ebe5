package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// internalCounter compiles the C counter guest on an engine of its own,
// closed when the test ends.
func internalCounter(t *testing.T) *Module {
	t.Helper()
	e, err := NewEngine()
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	code, err := os.ReadFile(filepath.Join(testguest.ModuleRoot(), "guest", "c", "agents", "counter.wasm"))
	require.NoError(t, err)
	m, err := e.Compile(context.Background(), code)
	require.NoError(t, err)
	return m
}

// withLiveLimit sets the process's limit of live instances for the test
// (no test of this package runs in parallel with another).
func withLiveLimit(t *testing.T, n int64) {
	maxLiveStores() // compute the real one first, so once does not overwrite ours
	old := liveStores.max
	liveStores.max = n
	t.Cleanup(func() { liveStores.max = old })
}

func TestInstancesOverTheProcessLimitAreRefused(t *testing.T) {
	live, limit := LiveInstances()
	assert.Positive(t, limit, "derived from vm.max_map_count")
	withLiveLimit(t, live+2)
	m := internalCounter(t)
	cfg := InstanceConfig{Agent: "c", Snapshots: true}
	a, err := m.Instantiate(context.Background(), cfg)
	require.NoError(t, err)
	b, err := m.Instantiate(context.Background(), cfg)
	require.NoError(t, err)
	snap, err := b.Snapshot()
	require.NoError(t, err)

	_, err = m.Instantiate(context.Background(), cfg)
	require.ErrorIs(t, err, ErrTooManyInstances)
	assert.Contains(t, err.Error(), `agent "c" not started`)
	_, err = m.Restore(context.Background(), cfg, snap)
	require.ErrorIs(t, err, ErrTooManyInstances, "a restore is a new store too")

	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "closing twice releases once")
	c, err := m.Restore(context.Background(), cfg, snap)
	require.NoError(t, err, "a closed instance makes room")
	_, err = m.Instantiate(context.Background(), cfg)
	require.True(t, errors.Is(err, ErrTooManyInstances))
	require.NoError(t, b.Close())
	require.NoError(t, c.Close())
	after, _ := LiveInstances()
	assert.Equal(t, live, after, "every instance released its count")
}
