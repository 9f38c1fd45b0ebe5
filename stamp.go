package caxton

import (
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton/clock"
)

// rebaseEvery bounds how long the stamp clock extends one wall-clock
// reading with the monotonic clock before it reads the wall clock again:
// a step of the wall clock (an operator's, NTP's) shows in stamps within
// this time, and a slew (at most 500 ppm) drifts them by at most 50 µs.
const rebaseEvery = 100 * time.Millisecond

// stampClock tells the time for stamping messages (CreatedAt, and the
// timestamp in their ids) on the send path.
//
// time.Now reads two clocks, the wall clock and the monotonic one: two
// virtual-dynamic-object calls, each a TSC read that a hypervisor can make
// slow (on the VMs this was measured on, a clock read costs as much as
// four atomic additions, and time.Now was a fifth of a send). A stamp
// needs both readings — the wall time for the record, the monotonic one so
// that comparisons in the process are exact — so the stamp clock takes one
// time.Now as a base and answers base + time.Since(base): one monotonic
// read, the wall time following it. It reads the wall clock again every
// rebaseEvery. A runtime on another clock (clock.Fake in tests) is asked
// directly, so fake time stays exact.
type stampClock struct {
	other clock.Clock // nil for the real clock
	base  atomic.Pointer[time.Time]
}

func newStampClock(c clock.Clock) *stampClock {
	s := &stampClock{}
	if c != clock.Real() {
		s.other = c
		return s
	}
	t := time.Now()
	s.base.Store(&t)
	return s
}

// now returns the current time.
func (s *stampClock) now() time.Time {
	if s.other != nil {
		return s.other.Now()
	}
	b := s.base.Load()
	d := time.Since(*b) // one monotonic read: b carries a monotonic reading
	if d >= 0 && d < rebaseEvery {
		return b.Add(d) // wall and monotonic readings both advanced by d
	}
	t := time.Now()
	s.base.Store(&t)
	return t
}
