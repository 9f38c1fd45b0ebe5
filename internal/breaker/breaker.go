// Package breaker is the circuit breaker behind Caxton's per-agent breakers
// (caxton.BreakerPolicy) and the MCP registry's per-server ones: after a
// number of failures in a row it opens for a cool-down, then half-opens and
// lets the next outcome decide.
package breaker

import (
	"sync"
	"time"
)

// State is a breaker's state.
type State uint8

// States, in the order caxton.BreakerState mirrors.
const (
	Closed   State = iota // calls flow
	Open                  // calls refused until the cool-down ends
	HalfOpen              // calls flow; the next outcome decides
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "unknown"
}

// Breaker is safe for concurrent use.
type Breaker struct {
	failures int
	cooldown time.Duration
	now      func() time.Time
	changed  func(State) // called on every change, outside the lock

	mu     sync.Mutex
	st     State
	fails  int
	opened time.Time
}

// New returns a closed breaker that opens after failures failed outcomes
// in a row and stays open for cooldown by now. changed (optional) is told
// of every change of state.
func New(failures int, cooldown time.Duration, now func() time.Time, changed func(State)) *Breaker {
	return &Breaker{failures: failures, cooldown: cooldown, now: now, changed: changed}
}

// State returns the state, moving an open breaker whose cool-down passed
// to half-open.
func (b *Breaker) State() State {
	b.mu.Lock()
	st, moved := b.tickLocked()
	b.mu.Unlock()
	b.tell(moved, st)
	return st
}

// Allow reports whether a call may go ahead (the breaker is not open).
func (b *Breaker) Allow() bool { return b.State() != Open }

// Record records a call's outcome.
func (b *Breaker) Record(ok bool) {
	b.mu.Lock()
	st, moved := b.tickLocked()
	if moved { // the half-open step happened here: report it before the outcome's
		b.mu.Unlock()
		b.tell(true, st)
		b.mu.Lock()
		st = b.st
	}
	before := st
	switch {
	case ok:
		b.fails = 0
		b.st = Closed
	case st == HalfOpen:
		b.st, b.opened = Open, b.now()
	case st == Closed:
		b.fails++
		if b.fails >= b.failures {
			b.st, b.opened, b.fails = Open, b.now(), 0
		}
	}
	after := b.st
	b.mu.Unlock()
	b.tell(after != before, after)
}

func (b *Breaker) tickLocked() (State, bool) {
	if b.st == Open && b.now().Sub(b.opened) >= b.cooldown {
		b.st = HalfOpen
		return b.st, true
	}
	return b.st, false
}

func (b *Breaker) tell(moved bool, st State) {
	if moved && b.changed != nil {
		b.changed(st)
	}
}
