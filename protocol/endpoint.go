package protocol

import (
	"context"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// Endpoint is a named party on the bus that sends messages and pulls the
// ones addressed to it, which is what an initiator needs. *caxton.Inbox
// satisfies it; so can any transport a test or host provides.
type Endpoint interface {
	// Name is the endpoint's address; it is the sender of what it sends.
	Name() acl.AgentID
	// Send sends m with the endpoint as sender.
	Send(ctx context.Context, m *acl.Message) error
	// Receive returns the next message, waiting up to ctx.
	Receive(ctx context.Context) (*acl.Message, error)
}

// Conn is how a responder talks back while it handles a message.
// *caxton.MessageContext satisfies it on the host, and the guest SDK adapts
// its context to it, so one responder runs natively and inside wasm.
type Conn interface {
	// Send sends m from the responding agent.
	Send(ctx context.Context, m *acl.Message) error
	// Now is the runtime's clock (a fake one in tests).
	Now() time.Time
}

// Responder is the responder side of a protocol: it handles one inbound
// message and answers through c. caxton.ProtocolHandler turns it into an
// agent's Handler; guest.Respond into a wasm agent's handler. An error it
// returns is the handler's error: the runtime retries the message.
type Responder interface {
	Respond(ctx context.Context, m *acl.Message, c Conn) error
}

// ResponderFunc adapts a function to Responder.
type ResponderFunc func(ctx context.Context, m *acl.Message, c Conn) error

// Respond calls f.
func (f ResponderFunc) Respond(ctx context.Context, m *acl.Message, c Conn) error {
	return f(ctx, m, c)
}

// Mux sends each message to the responder registered for its protocol, and
// answers others with not-understood, so one agent can speak several
// protocols.
type Mux map[string]Responder

// Respond dispatches m by m.Protocol.
func (mx Mux) Respond(ctx context.Context, m *acl.Message, c Conn) error {
	if r, ok := mx[m.Protocol]; ok {
		return r.Respond(ctx, m, c)
	}
	return ReplyNotUnderstood(ctx, c, m, "unsupported protocol "+quote(m.Protocol))
}

// Reply sends a reply to m (acl.CreateReply: receivers, conversation,
// in-reply-to, protocol) with performative p and text content.
func Reply(ctx context.Context, c Conn, m *acl.Message, p acl.Performative, content []byte) error {
	r := m.CreateReplyWith(p, "")
	r.Content = content
	return c.Send(ctx, r)
}

// ReplyNotUnderstood answers m with not-understood and a reason — except
// when m is itself a not-understood, which is never answered, so two
// parties that do not understand each other do not loop.
func ReplyNotUnderstood(ctx context.Context, c Conn, m *acl.Message, reason string) error {
	if m.Performative == acl.NotUnderstood || m.ReplyTo == "" && m.Sender == "" {
		return nil
	}
	return ReplyReason(ctx, c, m, acl.NotUnderstood, reason)
}

// ReplyReason answers m with performative p (refuse, failure,
// not-understood, reject-proposal ...) and a plain-text reason.
func ReplyReason(ctx context.Context, c Conn, m *acl.Message, p acl.Performative, reason string) error {
	r := m.CreateReplyWith(p, "")
	r.Content = []byte(reason)
	r.Language = "text/plain"
	r.Encoding, r.Ontology = "", ""
	return c.Send(ctx, r)
}

func quote(s string) string {
	if s == "" {
		return `""`
	}
	return `"` + s + `"`
}
