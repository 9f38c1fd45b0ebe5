package caxton

import (
	"context"
	"log/slog"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
	"github.com/caxton-go/caxton/telemetry"
)

// Handler handles one message at a time. Returning nil acknowledges the
// message; returning an error (or panicking) fails the attempt, and the
// runtime retries it with backoff and finally dead-letters it, per the
// agent's DeliveryPolicy.
//
// Messages to one instance are handled in order, one at a time, so a handler
// used by a single instance needs no locking. A handler shared by several
// replicas (AgentSpec.Handler with Replicas > 1) is called concurrently.
type Handler interface {
	HandleMessage(ctx context.Context, mc *MessageContext) error
}

// HandlerFunc adapts a function to Handler, like http.HandlerFunc.
type HandlerFunc func(ctx context.Context, mc *MessageContext) error

// HandleMessage calls f.
func (f HandlerFunc) HandleMessage(ctx context.Context, mc *MessageContext) error { return f(ctx, mc) }

// BatchHandler is a Handler that can take several queued messages in one
// call. Sandboxed (WebAssembly) agents implement it, because each crossing
// into a guest is expensive: the runtime hands over a batch, and the
// messages the instance emits are collected in the batch's outbox and sent
// only if the whole batch succeeds. On error the outbox is discarded — a
// failed batch has emitted nothing — and, since it cannot be told which
// message failed it, each message of the batch is tried again on its own,
// in order, so only the guilty ones go the retry → dead-letter way.
type BatchHandler interface {
	Handler
	HandleBatch(ctx context.Context, b *Batch) error
}

// Batch is a run of queued messages for one BatchHandler call.
type Batch struct {
	// Messages are in mailbox order; read-only.
	Messages []*acl.Message
	// Attempt is the attempt number of this batch (1 for the first try).
	Attempt  int
	outbox   []*acl.Message
	rejected map[int]error
}

// Reject marks Messages[i] as one the handler refuses outright (too large
// for a sandbox, say): if the batch succeeds, that message is dead-lettered
// with err instead of counted as handled.
func (b *Batch) Reject(i int, err error) {
	if b.rejected == nil {
		b.rejected = make(map[int]error)
	}
	b.rejected[i] = err
}

// Emit queues m to be sent when the batch succeeds. The runtime stamps the
// agent's name as sender; a message claiming another sender is rejected.
func (b *Batch) Emit(m *acl.Message) { b.outbox = append(b.outbox, m) }

// Outbox returns the messages emitted so far.
func (b *Batch) Outbox() []*acl.Message { return b.outbox }

// InstanceInfo tells a factory which instance it is making.
type InstanceInfo struct {
	Agent   acl.AgentID
	Replica int    // 0 .. Replicas-1
	Restart int    // how many times this replica was replaced before
	Version string // the code's version (AgentSpec.Version): an upgrade makes instances of the new one beside the old
}

// ProtocolHandler makes a protocol responder — protocol.RequestResponder,
// contractnet.Participant, a protocol.Mux of several — an agent's Handler.
// The responder answers through the MessageContext, so its replies are
// sent from the agent like any other.
func ProtocolHandler(r protocol.Responder) Handler {
	return HandlerFunc(func(ctx context.Context, mc *MessageContext) error {
		return r.Respond(ctx, mc.Message(), mc)
	})
}

// MessageContext is what a handler gets with each message: the message, who
// it is, and how to talk back. It is valid only during the HandleMessage
// call that received it (the runtime reuses it); copy what you need to keep.
type MessageContext struct {
	rt      *Runtime
	in      *instance
	msg     *acl.Message
	attempt int
	ctx     context.Context // the handler's: carries the consumer span
	ver     *version        // the code handling the message (its tool grant)
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
		return mc.in.log()
	}
	l := mc.in.log().With("message_id", mc.msg.ID)
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
	mc.in.spoke.Store(true)
	return mc.rt.send(ctx, m, originOf(mc.in.a), nil)
}

// Request sends m from this agent and waits for the reply (matched by
// in-reply-to, or by conversation id when the reply has none), up to ctx
// and m's ReplyBy. The agent's other messages wait meanwhile: it handles
// one message at a time.
func (mc *MessageContext) Request(ctx context.Context, m *acl.Message) (*acl.Message, error) {
	mc.in.spoke.Store(true)
	return mc.rt.request(ctx, m, originOf(mc.in.a), nil)
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
