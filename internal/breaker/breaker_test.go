package breaker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBreakerCycle(t *testing.T) {
	now := time.Unix(0, 0)
	var seen []State
	b := New(2, time.Second, func() time.Time { return now }, func(s State) { seen = append(seen, s) })
	assert.True(t, b.Allow())
	b.Record(false)
	b.Record(true) // a success resets the count
	b.Record(false)
	assert.Equal(t, Closed, b.State())
	b.Record(false)
	assert.Equal(t, Open, b.State())
	assert.False(t, b.Allow())
	now = now.Add(time.Second)
	assert.Equal(t, HalfOpen, b.State())
	b.Record(false) // the trial fails: open again
	assert.False(t, b.Allow())
	now = now.Add(time.Second)
	b.Record(true) // half-open, then the trial passes
	assert.Equal(t, Closed, b.State())
	assert.Equal(t, []State{Open, HalfOpen, Open, HalfOpen, Closed}, seen)
	assert.Equal(t, "half-open", HalfOpen.String())
}
