package caxton

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	cb "github.com/caxton-go/caxton/internal/breaker"
)

// ErrCircuitOpen: the receiver's circuit breaker is open (it kept failing);
// new messages are refused until its cool-down ends. See BreakerPolicy.
var ErrCircuitOpen = errors.New("caxton: circuit open")

// BreakerPolicy is a circuit breaker for an agent as a receiver. After
// Failures failed handling attempts in a row the breaker opens: sends to
// the agent fail with ErrCircuitOpen (messages already queued are still
// handled). After Cooldown on the runtime's clock it half-opens and lets
// messages in again; the next attempt's success closes it, a failure opens
// it for another Cooldown. The zero value has no breaker.
type BreakerPolicy struct {
	Failures int           // failed attempts in a row that open the breaker (0: no breaker)
	Cooldown time.Duration // how long it stays open (default 30s)
}

func (p BreakerPolicy) withDefaults() (BreakerPolicy, error) {
	switch {
	case p.Failures < 0:
		return p, specErr("Breaker.Failures", "%d is negative", p.Failures)
	case p.Cooldown < 0:
		return p, specErr("Breaker.Cooldown", "%v is negative", p.Cooldown)
	}
	if p.Failures > 0 {
		p.Cooldown = cmp.Or(p.Cooldown, 30*time.Second)
	}
	return p, nil
}

// BreakerState is a circuit breaker's state.
type BreakerState uint8

// Breaker states (as internal/breaker numbers them).
const (
	BreakerClosed   BreakerState = iota // deliveries flow
	BreakerOpen                         // deliveries refused until the cool-down ends
	BreakerHalfOpen                     // deliveries flow; the next result decides
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("BreakerState(%d)", uint8(s))
}

// breaker is an agent's circuit breaker; nil when the policy has none, so
// the hot path pays one nil check.
type breaker struct {
	a *agent
	b *cb.Breaker
}

func newBreaker(a *agent, pol BreakerPolicy) *breaker {
	events := map[cb.State]EventKind{cb.Open: EventCircuitOpen, cb.HalfOpen: EventCircuitHalfOpen, cb.Closed: EventCircuitClosed}
	return &breaker{a: a, b: cb.New(pol.Failures, pol.Cooldown, a.rt.clock.Now, func(s cb.State) {
		a.emit(events[s], -1, "")
	})}
}

// state returns the breaker's state (closed for no breaker).
func (b *breaker) state() BreakerState {
	if b == nil {
		return BreakerClosed
	}
	return BreakerState(b.b.State())
}

// allow reports whether a new message may be delivered.
func (b *breaker) allow() error {
	if !b.b.Allow() {
		pol := b.a.spec.Breaker
		return fmt.Errorf("%w: %q failed %d attempts in a row; it takes messages again %v after opening", ErrCircuitOpen, b.a.name(), pol.Failures, pol.Cooldown)
	}
	return nil
}

// result records a handling attempt's outcome.
func (b *breaker) result(ok bool) {
	if b != nil {
		b.b.Record(ok)
	}
}
