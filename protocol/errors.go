package protocol

import (
	"errors"
	"fmt"

	"github.com/caxton-go/caxton/acl"
)

// Sentinel errors. An answer that ends a conversation unsuccessfully is a
// *ReplyError wrapping one of the first three, so callers test with
// errors.Is and read the reason with errors.As.
var (
	// ErrRefused: the responder refused (refuse, or reject-proposal in the
	// propose protocol).
	ErrRefused = errors.New("protocol: refused")
	// ErrNotUnderstood: the responder did not understand the message.
	ErrNotUnderstood = errors.New("protocol: not understood")
	// ErrFailure: the responder agreed but failed to do it.
	ErrFailure = errors.New("protocol: failure")
	// ErrTimeout: the reply-by deadline passed without the answer.
	ErrTimeout = errors.New("protocol: reply-by deadline passed")
	// ErrClosed: the client is closed (or its endpoint was).
	ErrClosed = errors.New("protocol: client closed")
	// ErrViolation: a message broke the protocol (out of sequence, wrong
	// conversation); it was answered with not-understood.
	ErrViolation = errors.New("protocol: protocol violation")
)

// ErrCancelled is what Subscription.Next returns once the subscription was
// cancelled with Cancel: the stream ended because the subscriber asked.
var ErrCancelled = errors.New("protocol: subscription cancelled")

// ReplyError is an unsuccessful answer: who sent it, which act, and the
// reason it gave (the content).
type ReplyError struct {
	From         acl.AgentID
	Performative acl.Performative
	Reason       string
	Message      *acl.Message // the answer itself
}

func (e *ReplyError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("protocol: %s from %q", e.Performative, e.From)
	}
	return fmt.Sprintf("protocol: %s from %q: %s", e.Performative, e.From, e.Reason)
}

// Unwrap returns the sentinel for the performative.
func (e *ReplyError) Unwrap() error {
	switch e.Performative {
	case acl.Refuse, acl.RejectProposal:
		return ErrRefused
	case acl.NotUnderstood:
		return ErrNotUnderstood
	default:
		return ErrFailure
	}
}

// replyError builds the error for an unsuccessful answer m.
func replyError(m *acl.Message) *ReplyError {
	return &ReplyError{From: m.Sender, Performative: m.Performative, Reason: string(m.Content), Message: m}
}

// Refusal is returned by a responder callback to refuse with a reason (the
// responder helper answers refuse, or reject-proposal where that is the
// protocol's word). Build it with Refuse.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return "refused: " + r.Reason }

// Refuse returns an error that makes a responder helper refuse with reason.
func Refuse(reason string) error { return &Refusal{Reason: reason} }

// Misunderstanding is returned by a responder callback that cannot make
// sense of the message; the helper answers not-understood. Build it with
// NotUnderstood.
type Misunderstanding struct{ Reason string }

func (n *Misunderstanding) Error() string { return "not understood: " + n.Reason }

// NotUnderstood returns an error that makes a responder helper answer
// not-understood with reason.
func NotUnderstood(reason string) error { return &Misunderstanding{Reason: reason} }

// Violation is a message that broke a protocol: the client or initiator
// answered it with not-understood and reports it here rather than drop it.
type Violation struct {
	Message *acl.Message
	Reason  string
}

func (v Violation) Error() string {
	return fmt.Sprintf("protocol violation by %q (%s): %s", v.Message.Sender, v.Message.Performative, v.Reason)
}

// Unwrap returns ErrViolation.
func (v Violation) Unwrap() error { return ErrViolation }
