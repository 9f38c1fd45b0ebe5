package sandbox

import (
	"errors"
	"fmt"

	"github.com/caxton-go/caxton/acl"
)

// Kind classifies why a guest call failed.
type Kind uint8

// The failure kinds. Every kind but GuestFailed and GuestPermanent means the
// instance can no longer be trusted and must be discarded.
const (
	KindOther          Kind = iota // a trap of another kind (divide by zero, bad conversion, ...)
	KindOutOfFuel                  // the batch used up its fuel
	KindDeadline                   // the batch ran past its wall-clock deadline
	KindMemory                     // the guest tried to grow memory past its limit, or ran out
	KindStackOverflow              // the guest exhausted its stack (deep recursion)
	KindUnreachable                // the guest executed `unreachable` (Rust/C panic, Go exit)
	KindOutOfBounds                // out-of-bounds memory or table access
	KindABIViolation               // the guest broke Guest ABI v1 (exports, versions, frames, limits)
	KindGuestFailed                // the guest's handler reported failure (status -2): retry
	KindGuestPermanent             // the guest's handler reported permanent failure (status -3)
)

var kindNames = [...]string{
	KindOther: "trap", KindOutOfFuel: "out of fuel", KindDeadline: "deadline exceeded",
	KindMemory: "memory limit", KindStackOverflow: "stack overflow", KindUnreachable: "unreachable",
	KindOutOfBounds: "out of bounds", KindABIViolation: "ABI violation",
	KindGuestFailed: "guest failed", KindGuestPermanent: "guest failed permanently",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ErrSandbox is wrapped by every *Error, for errors.Is.
var ErrSandbox = errors.New("sandbox")

// Error is a failed guest call: which agent, what kind of failure, and the
// detail (the trap message, or which ABI rule was broken).
type Error struct {
	Agent    acl.AgentID
	Kind     Kind
	Detail   string
	FuelUsed uint64 // fuel the failed call consumed (0 when fuel is not metered)
}

func (e *Error) Error() string {
	return fmt.Sprintf("sandbox: agent %q: %s: %s", e.Agent, e.Kind, e.Detail)
}

// Unwrap returns ErrSandbox.
func (e *Error) Unwrap() error { return ErrSandbox }

// Broken reports whether the instance that produced e must be discarded.
func (e *Error) Broken() bool { return e.Kind != KindGuestFailed && e.Kind != KindGuestPermanent }
