package caxton

import (
	"fmt"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// originKind says what kind of code sends a message.
type originKind uint8

const (
	// originHost is host code calling Runtime.Send or Runtime.Request. The
	// host is trusted: it may name any sender (a bridge forwarding for
	// someone), and without one the message comes from the default inbox.
	originHost originKind = iota + 1
	// originInbox is a host inbox (Inbox.Send, Inbox.Request): it speaks as
	// itself only.
	originInbox
	// originNative is a native agent's handler (MessageContext.Send,
	// Request, Reply): it speaks as its agent only.
	originNative
	// originWasm is a sandboxed agent, through its batch outbox or the
	// single-message path: it speaks as its agent only, and may not choose
	// its messages' ids or creation times.
	originWasm
	// originSystem is the runtime's own notices (failures about dead
	// letters): sent as the system name, and never waiting for mailbox
	// space, since the worker that sends one must not block on another.
	originSystem
)

var originNames = [...]string{originHost: "host", originInbox: "inbox", originNative: "agent", originWasm: "wasm agent", originSystem: "runtime"}

func (k originKind) String() string {
	if int(k) < len(originNames) && originNames[k] != "" {
		return originNames[k]
	}
	return fmt.Sprintf("origin(%d)", uint8(k))
}

// origin is who sends a message. Every path into the bus — host calls,
// inboxes, native handlers, wasm outboxes — names its origin, and stamp is
// the one place that turns it into the message's sender, refuses a sender
// the origin may not speak as, and applies the id and time rules. Later
// checks (authorization, quotas, audit) key on the same value.
type origin struct {
	kind  originKind
	name  acl.AgentID // whom the origin speaks as (the default sender, for the host)
	agent *agent      // the sending agent, for agent origins
}

// originOf is an agent's origin: native or wasm by its spec.
func originOf(a *agent) origin {
	if a.version().wasm != nil {
		return origin{kind: originWasm, name: a.name(), agent: a}
	}
	return origin{kind: originNative, name: a.name(), agent: a}
}

// stamp makes m's sender the origin's and enforces what the origin may set.
//
//   - The host may name any sender; an empty one becomes the default inbox.
//   - Inboxes and agents speak only as themselves: a different non-empty
//     sender is refused (ErrForgedSender, and an *acl.FieldError on
//     "sender" wrapping acl.ErrInvalid), so nothing can be sent in someone
//     else's name.
//   - Agents do not choose ids or creation times: the runtime assigns them
//     on routing, so a guest cannot reuse another message's id or back-date
//     a proposal past a deadline. (Host code may preset both, e.g. when
//     re-sending a message it stored.)
func (o origin) stamp(m *acl.Message) error {
	if m == nil {
		return &acl.FieldError{Field: "message", Reason: "nil"}
	}
	switch {
	case m.Sender == "":
		m.Sender = o.name
	case o.kind != originHost && o.kind != originSystem && m.Sender != o.name:
		return fmt.Errorf("%w: %w", ErrForgedSender, &acl.FieldError{Field: "sender",
			Reason: fmt.Sprintf("%s %q cannot send as %q", o.kind, o.name, truncateNotice(string(m.Sender)))})
	}
	if o.agent != nil {
		m.ID, m.CreatedAt = acl.MessageID{}, time.Time{}
	}
	return nil
}
