//go:build cgo

package sandbox

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeReleases drives a releaser by hand: its clock, the live count, and
// the releases and delayed releases it asks for.
type fakeReleases struct {
	r        *releaser
	now      time.Duration
	live     int64
	released int
	pending  []time.Duration // delays of armed releases not yet run
	fire     []func()
	during   func() // runs inside a release
}

func newFakeReleases() *fakeReleases {
	f := &fakeReleases{now: time.Hour}
	f.r = newReleaser(
		func() int64 { return f.live },
		func() bool {
			f.released++
			if f.during != nil {
				f.during()
			}
			return true
		},
		func(g func()) { g() },
		func(d time.Duration, g func()) { f.pending, f.fire = append(f.pending, d), append(f.fire, g) },
	)
	f.r.now = func() time.Duration { return f.now }
	return f
}

func (f *fakeReleases) open(n int) {
	for range n {
		f.live++
		f.r.opened()
	}
}

func (f *fakeReleases) close(n int) {
	for range n {
		f.live--
		f.r.closed()
	}
}

func TestChurnAloneReleasesOnlyAfterManyCloses(t *testing.T) {
	f := newFakeReleases()
	f.open(100)
	for range releaseChurn - 100 - 1 {
		f.close(1)
		f.open(1) // the next instance reuses what the last freed
	}
	f.close(100)
	assert.Equal(t, 0, f.released, "%d closes at a steady live count", releaseChurn-1)
	f.open(1)
	f.close(1)
	assert.Equal(t, 1, f.released, "after %d closes", releaseChurn)
	assert.Zero(t, f.r.closes.Load(), "the count starts over")
}

func TestAFallOfLiveInstancesReleases(t *testing.T) {
	f := newFakeReleases()
	f.open(5000)
	f.close(releaseDrop - 1)
	assert.Equal(t, 0, f.released)
	f.close(1)
	assert.Equal(t, 1, f.released, "a fall of %d below the peak", releaseDrop)
	assert.Equal(t, f.live, f.r.peak.Load(), "the next fall is measured from the live count at the release")
	f.close(int(f.live))
	assert.Equal(t, 1, f.released, "%d more closes are not a fall of %d", 5000-releaseDrop, releaseDrop)
}

func TestAReleaseDueTooSoonWaitsForTheGapEvenWithoutMoreCloses(t *testing.T) {
	f := newFakeReleases()
	f.open(3 * releaseDrop)
	f.close(releaseDrop)
	require.Equal(t, 1, f.released)

	f.now += releaseGap / 4
	f.close(releaseDrop) // due again, a quarter of the gap later
	assert.Equal(t, 1, f.released, "not within the gap")
	require.Equal(t, []time.Duration{releaseGap * 3 / 4}, f.pending, "one release armed for the gap's end, however many closes")
	f.now += releaseGap * 3 / 4
	f.fire[0]() // the timer; no instance closed meanwhile
	assert.Equal(t, 2, f.released)
	assert.False(t, f.r.queued.Load(), "the next due release may be queued")
}

func TestClosesDuringAReleaseStayCounted(t *testing.T) {
	f := newFakeReleases()
	f.r.closes.Store(10)
	f.during = func() { f.r.closes.Add(1) } // an instance closing on another thread
	f.r.releaseNow()
	assert.Equal(t, int64(1), f.r.closes.Load())
}

// The process's releaser sees real instances open and close (the policy
// is tested above on a fake clock; this is the wiring).
func TestInstancesReportToTheProcesssReleaser(t *testing.T) {
	m := internalCounter(t)
	ReleaseNativeMemory()
	// No release may start over the count while the test reads it (one
	// queued by another test's closes waits for the lock).
	nativeMem.mu.Lock()
	closes := nativeMem.closes.Load()
	var ins []*Instance
	for range 3 {
		in, err := m.Instantiate(context.Background(), InstanceConfig{Agent: "c"})
		require.NoError(t, err)
		ins = append(ins, in)
	}
	live, _ := LiveInstances()
	assert.GreaterOrEqual(t, nativeMem.peak.Load(), live, "opening raises the peak")
	for _, in := range ins {
		require.NoError(t, in.Close())
	}
	assert.Equal(t, closes+3, nativeMem.closes.Load(), "each close counts")
	nativeMem.mu.Unlock()

	n := nativeMem.releases.Load()
	ReleaseNativeMemory()
	assert.Greater(t, nativeMem.releases.Load(), n)
}

// On glibc the release is real, not the stub of other C libraries.
func TestNativeReleaseIsAvailableOnGlibc(t *testing.T) {
	maps, err := os.ReadFile("/proc/self/maps")
	if runtime.GOOS != "linux" || err != nil || !strings.Contains(string(maps), "libc.so.6") {
		t.Skip("not a glibc process")
	}
	assert.True(t, haveNativeRelease)
}
