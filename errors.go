package caxton

import (
	"errors"
	"fmt"
	"strings"

	"github.com/caxton-go/caxton/acl"
)

// Sentinel errors. Every error the runtime returns wraps one of these — or
// acl.ErrInvalid for a malformed message, sandbox.ErrSandbox (a
// *sandbox.Error naming the agent and the Kind) for a wasm module that
// cannot be compiled or started, or a context error — so callers branch
// with errors.Is.
var (
	// ErrClosed: the runtime (or the inbox) is closed.
	ErrClosed = errors.New("caxton: closed")
	// ErrAgentNotFound: no agent, inbox or topic subscriber has that name.
	ErrAgentNotFound = errors.New("caxton: agent not found")
	// ErrAgentExists: Spawn of a name already in use.
	ErrAgentExists = errors.New("caxton: agent already exists")
	// ErrInvalidSpec: an AgentSpec or option is malformed; see *SpecError.
	ErrInvalidSpec = errors.New("caxton: invalid spec")
	// ErrMailboxFull: the receiver's mailbox is at capacity and its overflow
	// policy is OverflowReject.
	ErrMailboxFull = errors.New("caxton: mailbox full")
	// ErrAgentFailed: the agent exceeded its restart policy and is failed;
	// Restart it to bring it back. (A runtime with a durable store, see
	// WithStore, queues messages for a failed agent instead.)
	ErrAgentFailed = errors.New("caxton: agent failed")
	// ErrNoSubscribers: the message's only receivers were topics that
	// nobody subscribes to, so it would have reached no one.
	ErrNoSubscribers = errors.New("caxton: no subscribers")
	// ErrNoReply: Request ended (reply-by passed) before a reply arrived.
	ErrNoReply = errors.New("caxton: no reply")
	// ErrInstanceBroken: returned (wrapped) by a handler whose instance can
	// no longer be trusted; the runtime discards the instance, makes a fresh
	// one through the agent's factory, and retries the message.
	ErrInstanceBroken = errors.New("caxton: instance broken")
	// ErrPermanent: wrapped by Permanent; the message is dead-lettered at
	// once instead of retried.
	ErrPermanent = errors.New("caxton: permanent failure")
	// ErrRuleNotFound: RemoveRule of an unknown rule.
	ErrRuleNotFound = errors.New("caxton: rule not found")
	// ErrDeadLettered: a Request's message was dead-lettered before anyone
	// answered; see *DeadLetteredError.
	ErrDeadLettered = errors.New("caxton: dead-lettered")
	// ErrForgedSender: an agent or inbox sent a message naming another
	// sender. The message is refused (it also wraps acl.ErrInvalid, with
	// an *acl.FieldError on "sender"); only host code may send on behalf of
	// others.
	ErrForgedSender = errors.New("caxton: forged sender")
	// ErrDeadLetterNotFound: Replay or Purge of an unknown dead-letter id.
	ErrDeadLetterNotFound = errors.New("caxton: dead letter not found")
)

// errNilContext is returned instead of panicking when a caller passes a nil
// context.Context.
var errNilContext = fmt.Errorf("%w: nil context.Context (use context.Background())", ErrInvalidSpec)

// SpecError names the field of an AgentSpec (or option) that is wrong.
type SpecError struct {
	Field  string
	Reason string
	// Err is the cause, when another package's error says why (for
	// example sandbox.ErrNoSnapshot for Wasm.Hibernate); nil otherwise.
	Err error
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("caxton: spec field %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidSpec, and the cause if there is one.
func (e *SpecError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidSpec, e.Err}
	}
	return []error{ErrInvalidSpec}
}

func specErr(field, format string, args ...any) error {
	return &SpecError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// DeliveryError reports a receiver a message could not be delivered to.
// Send returns one per failed receiver, joined with errors.Join; each wraps
// the cause (ErrAgentNotFound, ErrMailboxFull, a context error, ...).
type DeliveryError struct {
	Receiver acl.AgentID
	Err      error
}

func (e *DeliveryError) Error() string {
	// The cause is usually one of this package's sentinels; say "caxton:"
	// once.
	return fmt.Sprintf("caxton: deliver to %q: %s", e.Receiver, strings.TrimPrefix(e.Err.Error(), "caxton: "))
}

// Unwrap returns the cause.
func (e *DeliveryError) Unwrap() error { return e.Err }

// PanicError is the failure recorded when a handler panics. The runtime
// recovers the panic, counts a failure and retries the message.
type PanicError struct {
	Agent acl.AgentID
	Value any    // what was passed to panic
	Stack []byte // the goroutine's stack at the panic
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("caxton: agent %q panicked: %v", e.Agent, e.Value)
}

// Permanent marks err as not worth retrying: the runtime dead-letters the
// message at once. errors.Is(Permanent(err), ErrPermanent) and
// errors.Is(Permanent(err), err) both hold.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }

func (e *permanentError) Unwrap() []error { return []error{ErrPermanent, e.err} }
