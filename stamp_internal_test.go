package caxton

import (
	"testing"
	"time"

	"github.com/caxton-go/caxton/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The stamp clock's time lies between two time.Now readings taken around
// it, by the monotonic clock (what Before and After compare in-process) and
// by the wall clock to within the drift a rebase allows.
func TestStampClockAgreesWithTimeNow(t *testing.T) {
	s := newStampClock(clock.Real())
	for range 1000 {
		before := time.Now()
		got := s.now()
		after := time.Now()
		require.False(t, got.Before(before), "stamp %v before %v", got, before)
		require.False(t, got.After(after), "stamp %v after %v", got, after)
		// By wall readings alone (Round(0) drops the monotonic one), loosely:
		// a step of the wall clock shows in stamps only at the next rebase.
		wallBefore, wallAfter := before.Round(0), after.Round(0)
		assert.WithinRange(t, got.Round(0), wallBefore.Add(-time.Second), wallAfter.Add(time.Second))
	}
}

// A base older than rebaseEvery is replaced by a fresh wall-clock reading.
func TestStampClockRebases(t *testing.T) {
	s := newStampClock(clock.Real())
	old := time.Now().Add(-2 * rebaseEvery)
	s.base.Store(&old)
	got := s.now()
	require.NotSame(t, &old, s.base.Load(), "rebased")
	assert.Equal(t, got, *s.base.Load(), "the fresh reading is the stamp")
	assert.WithinDuration(t, time.Now(), got, time.Second)
}

// A runtime on a fake clock stamps the fake time, exactly.
func TestStampClockUsesAFakeClockAsIs(t *testing.T) {
	fake := clock.NewFake(time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC))
	s := newStampClock(fake)
	assert.Equal(t, fake.Now(), s.now())
	fake.Advance(time.Hour)
	assert.Equal(t, fake.Now(), s.now())
}
