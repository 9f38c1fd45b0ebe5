package sandbox_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPooledInstancesWorkAndAreBounded(t *testing.T) {
	e := newEngine(t, sandbox.WithInstancePool(sandbox.Pool{Instances: 2, MaxMemory: 16 << 20}))
	m := cCounter(t, e)
	ctx := context.Background()
	snapCfg := func() sandbox.InstanceConfig {
		cfg := snapCfg()
		cfg.Limits.MaxMemory = 16 << 20 // the pool's
		return cfg
	}
	a, err := m.Instantiate(ctx, snapCfg())
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2"}, counts(t, a, 2))
	b, err := m.Instantiate(ctx, snapCfg())
	require.NoError(t, err)

	_, err = m.Instantiate(ctx, snapCfg())
	require.ErrorIs(t, err, sandbox.ErrPoolFull)
	assert.Contains(t, err.Error(), "all 2 slots")

	// A snapshot moves between slots; a freed slot is reused.
	snap, err := a.Snapshot()
	require.NoError(t, err)
	require.NoError(t, a.Close())
	r, err := m.Restore(ctx, snapCfg(), snap)
	require.NoError(t, err)
	assert.Equal(t, []string{"3"}, counts(t, r, 1))
	require.NoError(t, r.Close())
	require.NoError(t, b.Close())
	for range 5 { // slots are reused, and a reused slot starts clean
		in, err := m.Instantiate(ctx, snapCfg())
		require.NoError(t, err)
		assert.Equal(t, []string{"1"}, counts(t, in, 1))
		require.NoError(t, in.Close())
	}

	cfg := snapCfg()
	cfg.Limits.MaxMemory = 32 << 20
	_, err = m.Instantiate(ctx, cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "above the instance pool's MaxMemory")
}

func TestInstancePoolOptionsAreChecked(t *testing.T) {
	for name, p := range map[string]sandbox.Pool{
		"Instances":    {Instances: 0},
		"MaxMemory":    {Instances: 1, MaxMemory: 100},
		"KeepResident": {Instances: 1, KeepResident: -1},
	} {
		_, err := sandbox.NewEngine(sandbox.WithInstancePool(p))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
	}
	// The process's budget of slots (each reserves 4 GiB of address space)
	// is shared by engines and returned by Close.
	big := newEngine(t, sandbox.WithInstancePool(sandbox.Pool{Instances: 9000}))
	_, err := sandbox.NewEngine(sandbox.WithInstancePool(sandbox.Pool{Instances: 9000}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "are left")
	require.NoError(t, big.Close())
	again, err := sandbox.NewEngine(sandbox.WithInstancePool(sandbox.Pool{Instances: 9000}))
	require.NoError(t, err)

	// wasmtime frees a pool with its last store, so an instance left open
	// after Close keeps its engine's slots out of the budget until it closes.
	m, err := again.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	in, err := m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "left-open"})
	require.NoError(t, err)
	require.NoError(t, again.Close())
	_, err = sandbox.NewEngine(sandbox.WithInstancePool(sandbox.Pool{Instances: 9000}))
	require.Error(t, err, "the open instance still holds the closed engine's slots")
	require.NoError(t, in.Close())
	last, err := sandbox.NewEngine(sandbox.WithInstancePool(sandbox.Pool{Instances: 9000}))
	require.NoError(t, err)
	require.NoError(t, last.Close())
}
