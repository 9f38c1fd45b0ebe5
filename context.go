package caxton

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
)

// MessageContext is what a handler gets with each message: the message, who
// it is, and how to talk back. It is valid only during the HandleMessage
// call that received it (the runtime reuses it); copy what you need to keep.
type MessageContext struct {
	rt      *Runtime
	in      *instance
	msg     *acl.Message
	attempt int
	ctx     context.Context // the handler's: carries the consumer span
}

// Message returns the message being handled. It is shared with other
// receivers: treat it as read-only.
func (mc *MessageContext) Message() *acl.Message { return mc.msg }

// Self returns the handling agent's name.
func (mc *MessageContext) Self() acl.AgentID { return mc.in.a.name() }

// Replica returns which replica of the agent is handling the message.
func (mc *MessageContext) Replica() int { return mc.in.replica }

// Attempt returns the attempt number, 1 for the first delivery. Delivery is
// at-least-once: use Message().ID to recognise a message seen before.
func (mc *MessageContext) Attempt() int { return mc.attempt }

// Now returns the runtime clock's time.
func (mc *MessageContext) Now() time.Time { return mc.rt.clock.Now() }

// Logger returns the runtime's logger with the agent's name and the
// message's id attached — and, with tracing on, the handling span's
// trace_id and span_id.
func (mc *MessageContext) Logger() *slog.Logger {
	if mc.msg == nil {
		return mc.in.logger
	}
	l := mc.in.logger.With("message_id", mc.msg.ID)
	if mc.rt.tel != nil && mc.ctx != nil {
		l = telemetry.WithContext(l, mc.ctx)
	}
	return l
}

// Send sends m from this agent (the runtime stamps the agent as sender; a
// message naming another sender is refused). It blocks while a receiver's
// mailbox is full and has the Block policy, up to ctx — except a message to
// the agent itself, which fails at once with ErrMailboxFull rather than wait
// for its own worker. If a receiver does
// not exist, Send returns an error and the agent also receives a FIPA
// failure notice from the runtime.
func (mc *MessageContext) Send(ctx context.Context, m *acl.Message) error {
	if err := mc.stamp(m); err != nil {
		return err
	}
	return mc.rt.route(ctx, m, nil, mc.in.a)
}

// Request sends m from this agent and waits for the reply (matched by
// in-reply-to, or by conversation id when the reply has none), up to ctx
// and m's ReplyBy. The agent's other messages wait meanwhile: it handles
// one message at a time.
func (mc *MessageContext) Request(ctx context.Context, m *acl.Message) (*acl.Message, error) {
	if err := mc.stamp(m); err != nil {
		return nil, err
	}
	return mc.rt.request(ctx, m, nil, mc.in.a)
}

// NewReply builds a reply to the current message (see acl.CreateReply),
// for callers that want to set more fields before Send.
func (mc *MessageContext) NewReply(p acl.Performative) *acl.Message {
	return mc.msg.CreateReplyWith(p, mc.rt.ids.New(mc.rt.clock.Now()).String())
}

// Reply sends a reply with performative p and content to the current
// message's reply-to or sender.
func (mc *MessageContext) Reply(ctx context.Context, p acl.Performative, content []byte) error {
	r := mc.NewReply(p)
	r.Content = content
	return mc.Send(ctx, r)
}

func (mc *MessageContext) stamp(m *acl.Message) error {
	if m == nil {
		return &acl.FieldError{Field: "message", Reason: "nil"}
	}
	self := mc.in.a.name()
	if m.Sender != "" && m.Sender != self {
		return fmt.Errorf("%w: agent %q cannot send as %q", acl.ErrInvalid, self, m.Sender)
	}
	m.Sender = self
	return nil
}
