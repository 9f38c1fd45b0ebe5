//go:build cgo

package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNativeReleaseIsDueAfterManyClosesAndAPause(t *testing.T) {
	for _, c := range []struct {
		closes int64
		since  time.Duration
		due    bool
	}{
		{0, time.Hour, false},
		{releaseEvery - 1, time.Hour, false},
		{releaseEvery, releaseGap - time.Nanosecond, false},
		{releaseEvery, releaseGap, true},
		{10 * releaseEvery, time.Hour, true},
	} {
		assert.Equal(t, c.due, releaseDue(c.closes, c.since), "%d closes, %v since the last", c.closes, c.since)
	}
}

// Closing instances releases the C allocator's free memory by itself: the
// release starts in the background once releaseEvery instances closed
// since the last one (and a second passed since it).
func TestClosingManyInstancesReleasesNativeMemory(t *testing.T) {
	e, err := NewEngine()
	require.NoError(t, err)
	defer e.Close()
	code, err := os.ReadFile(filepath.Join(testguest.ModuleRoot(), "guest", "c", "agents", "counter.wasm"))
	require.NoError(t, err)
	m, err := e.Compile(context.Background(), code)
	require.NoError(t, err)

	before := nativeMem.releases.Load()
	deadline := time.Now().Add(2 * time.Minute) // a safety net: a release comes after ~4,096 closes and ≤ 1 s
	closes := 0
	for nativeMem.releases.Load() == before {
		require.True(t, time.Now().Before(deadline), "no release after %d closes", closes)
		in, err := m.Instantiate(context.Background(), InstanceConfig{Agent: "c"})
		require.NoError(t, err)
		require.NoError(t, in.Close())
		closes++
	}

	// The explicit call releases at once and starts the count over.
	nativeMem.closes.Store(releaseEvery - 1)
	n := nativeMem.releases.Load()
	ReleaseNativeMemory()
	assert.Equal(t, n+1, nativeMem.releases.Load())
	assert.Zero(t, nativeMem.closes.Load(), "the count starts over")
}
