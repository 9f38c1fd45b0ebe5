package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var start = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

// fired returns the value a timer delivered, or false if it has not fired.
func fired(tm clock.Timer) (time.Time, bool) {
	select {
	case at := <-tm.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestFakeStartsAtGivenOrFixedTime(t *testing.T) {
	t.Parallel()
	assert.Equal(t, start, clock.NewFake(start).Now())
	assert.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), clock.NewFake(time.Time{}).Now())
	var _ clock.Clock = clock.NewFake(start)
	var _ clock.Clock = clock.Real()
}

func TestFakeAdvanceAndSet(t *testing.T) {
	t.Parallel()
	f := clock.NewFake(start)
	f.Advance(90 * time.Second)
	assert.Equal(t, start.Add(90*time.Second), f.Now())
	f.Advance(0)
	assert.Equal(t, start.Add(90*time.Second), f.Now())

	f.Set(start.Add(time.Hour))
	assert.Equal(t, start.Add(time.Hour), f.Now())
	f.Set(start) // backwards: ignored
	assert.Equal(t, start.Add(time.Hour), f.Now())
	f.Set(start.Add(time.Hour)) // same time: no change
	assert.Equal(t, start.Add(time.Hour), f.Now())
}

func TestFakeAdvanceNeverGoesBackwards(t *testing.T) {
	t.Parallel()
	f := clock.NewFake(start)
	f.Advance(-time.Minute)
	assert.Equal(t, start, f.Now())
}

func TestFakeTimersFireInDeadlineOrderWhenDue(t *testing.T) {
	t.Parallel()
	f := clock.NewFake(start)
	t30 := f.NewTimer(30 * time.Millisecond)
	t10 := f.NewTimer(10 * time.Millisecond)
	t20 := f.NewTimer(20 * time.Millisecond)
	t20b := f.NewTimer(20 * time.Millisecond)
	assert.Equal(t, 4, f.Pending())

	f.Advance(9 * time.Millisecond)
	for _, tm := range []clock.Timer{t10, t20, t20b, t30} {
		_, ok := fired(tm)
		assert.False(t, ok, "nothing is due yet")
	}
	f.Advance(time.Millisecond) // exactly due
	at, ok := fired(t10)
	require.True(t, ok)
	assert.Equal(t, start.Add(10*time.Millisecond), at, "a timer delivers its deadline")
	assert.Equal(t, 3, f.Pending())

	f.Advance(25 * time.Millisecond) // past both 20ms and 30ms
	for _, tc := range []struct {
		tm   clock.Timer
		want time.Duration
	}{{t20, 20 * time.Millisecond}, {t20b, 20 * time.Millisecond}, {t30, 30 * time.Millisecond}} {
		at, ok := fired(tc.tm)
		require.True(t, ok)
		assert.Equal(t, start.Add(tc.want), at)
	}
	assert.Equal(t, 0, f.Pending())
	f.Advance(time.Hour)
	_, ok = fired(t30)
	assert.False(t, ok, "a timer fires once")
}

func TestFakeSetFiresDueTimers(t *testing.T) {
	t.Parallel()
	f := clock.NewFake(start)
	early := f.NewTimer(time.Second)
	late := f.NewTimer(time.Minute)
	f.Set(start.Add(time.Second))
	at, ok := fired(early)
	require.True(t, ok)
	assert.Equal(t, start.Add(time.Second), at)
	_, ok = fired(late)
	assert.False(t, ok)
	f.Set(start) // backwards: nothing happens
	_, ok = fired(late)
	assert.False(t, ok)
	assert.Equal(t, 1, f.Pending())
}

func TestFakeNonPositiveDurationFiresAtOnce(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, -time.Second} {
		f := clock.NewFake(start)
		tm := f.NewTimer(d)
		at, ok := fired(tm)
		require.True(t, ok, "d=%v", d)
		assert.Equal(t, start, at)
		assert.Equal(t, 0, f.Pending())
		assert.False(t, tm.Stop(), "an already fired timer cannot be stopped")
		_, has := f.NextDeadline()
		assert.False(t, has)
	}
}

func TestFakeStop(t *testing.T) {
	t.Parallel()
	f := clock.NewFake(start)
	a := f.NewTimer(time.Second)
	b := f.NewTimer(2 * time.Second)
	assert.True(t, a.Stop())
	assert.False(t, a.Stop(), "stopping twice")
	assert.Equal(t, 1, f.Pending())
	f.Advance(3 * time.Second)
	_, ok := fired(a)
	assert.False(t, ok, "a stopped timer never fires")
	_, ok = fired(b)
	assert.True(t, ok)
	assert.False(t, b.Stop(), "a fired timer reports false")
}

func TestFakeNextDeadline(t *testing.T) {
	t.Parallel()
	f := clock.NewFake(start)
	_, ok := f.NextDeadline()
	assert.False(t, ok)
	a := f.NewTimer(5 * time.Second)
	f.NewTimer(3 * time.Second)
	c := f.NewTimer(time.Second)
	f.NewTimer(4 * time.Second)
	next, ok := f.NextDeadline()
	require.True(t, ok)
	assert.Equal(t, start.Add(time.Second), next)
	c.Stop()
	next, _ = f.NextDeadline()
	assert.Equal(t, start.Add(3*time.Second), next)
	f.Advance(4 * time.Second)
	next, _ = f.NextDeadline()
	assert.Equal(t, start.Add(5*time.Second), next)
	a.Stop()
	_, ok = f.NextDeadline()
	assert.False(t, ok)
}

func TestFakeBlockUntil(t *testing.T) {
	t.Parallel()
	f := clock.NewFake(start)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, f.BlockUntil(ctx, 0), "zero timers are always pending")

	done := make(chan error, 1)
	go func() { done <- f.BlockUntil(ctx, 2) }()
	f.NewTimer(time.Second)
	select {
	case err := <-done:
		t.Fatalf("BlockUntil(2) returned with one timer pending: %v", err)
	default:
	}
	f.NewTimer(time.Second)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("BlockUntil did not return when the second timer appeared")
	}
	require.NoError(t, f.BlockUntil(ctx, 2), "already satisfied")
}

func TestFakeBlockUntilHonoursContext(t *testing.T) {
	t.Parallel()
	f := clock.NewFake(start)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.BlockUntil(ctx, 1) }()
	tm := f.NewTimer(0) // fires at once: never pending
	_, ok := fired(tm)
	require.True(t, ok)
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("BlockUntil ignored its cancelled context")
	}
	assert.ErrorIs(t, f.BlockUntil(ctx, 1), context.Canceled)
}

func TestFakeTimersAfterFiringStopAndAdvance(t *testing.T) {
	t.Parallel()
	// Timers made after time moved are relative to the new time.
	f := clock.NewFake(start)
	f.Advance(time.Hour)
	tm := f.NewTimer(time.Minute)
	next, ok := f.NextDeadline()
	require.True(t, ok)
	assert.Equal(t, start.Add(time.Hour+time.Minute), next)
	f.Advance(time.Minute)
	at, ok := fired(tm)
	require.True(t, ok)
	assert.Equal(t, start.Add(time.Hour+time.Minute), at)
}

func TestRealClock(t *testing.T) {
	t.Parallel()
	c := clock.Real()
	before := time.Now()
	assert.False(t, c.Now().Before(before))
	tm := c.NewTimer(time.Hour)
	assert.True(t, tm.Stop())
	tm = c.NewTimer(0)
	select {
	case <-tm.C():
	case <-time.After(5 * time.Second):
		t.Fatal("a zero real timer did not fire")
	}
}
