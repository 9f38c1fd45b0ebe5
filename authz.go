package caxton

import (
	"context"
	"errors"
	"fmt"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
	"go.opentelemetry.io/otel/trace"
)

// ErrDenied: the authorizer refused a send, a subscription or a lifecycle
// operation; see *DeniedError.
var ErrDenied = errors.New("caxton: denied")

// Action is what an AuthzRequest asks to do.
type Action uint8

// Actions.
const (
	ActionSend      Action = iota + 1 // send a message (Performative, Protocol) to Target (an agent, inbox or topic)
	ActionSubscribe                   // subscribe Subject to the topic Target
	ActionSpawn                       // lifecycle operations on the agent Target, by an identity
	ActionStop
	ActionStart
	ActionScale
	ActionUpgrade
	ActionRemove
	ActionReplay // replay dead letters (Target: their ids, comma-separated)
	ActionPurge  // purge dead letters
)

var actionNames = [...]string{ActionSend: "send", ActionSubscribe: "subscribe", ActionSpawn: "spawn", ActionStop: "stop",
	ActionStart: "start", ActionScale: "scale", ActionUpgrade: "upgrade", ActionRemove: "remove",
	ActionReplay: "replay", ActionPurge: "purge"}

func (a Action) String() string {
	if int(a) < len(actionNames) && actionNames[a] != "" {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// SubjectKind says what kind of party a Subject is.
type SubjectKind uint8

// Subject kinds.
const (
	SubjectHost     SubjectKind = iota + 1 // host code (Runtime.Send, SubscribeFunc)
	SubjectInbox                           // a host inbox (a gateway's client speaks through one)
	SubjectAgent                           // an agent, native or wasm
	SubjectIdentity                        // an identity asking for a lifecycle operation (WithIdentity)
)

var subjectNames = [...]string{SubjectHost: "host", SubjectInbox: "inbox", SubjectAgent: "agent", SubjectIdentity: "identity"}

func (k SubjectKind) String() string {
	if int(k) < len(subjectNames) && subjectNames[k] != "" {
		return subjectNames[k]
	}
	return fmt.Sprintf("SubjectKind(%d)", uint8(k))
}

// Subject is who asks.
type Subject struct {
	Kind  SubjectKind
	Name  string   // the agent's, inbox's or identity's name ("" for the host)
	Roles []string // AgentSpec.Roles for an agent, Identity.Roles for an identity
	Wasm  bool     // a sandboxed agent
}

func (s Subject) String() string {
	if s.Name == "" {
		return s.Kind.String()
	}
	return s.Kind.String() + ":" + s.Name
}

// AuthzRequest is one decision an Authorizer makes.
type AuthzRequest struct {
	Action       Action
	Subject      Subject
	Target       string           // the receiver (agent, inbox, or "topic:name"), topic, agent, or dead-letter ids
	Performative acl.Performative // sends only
	Protocol     string           // sends only
}

// Authorizer decides who may say what to whom and who may change what. It
// is called on the one message path for every addressed receiver (after
// the sender is stamped, before anything is queued), for every
// subscription, and for lifecycle operations invoked with an Identity. A
// nil error allows; an error denies, and its text is the reason the
// sender is told. It must be safe for concurrent use and quick: it is on
// the hot path. Package policy has a rule set; an OPA or Cedar evaluator
// plugs in here as well.
type Authorizer interface {
	Authorize(ctx context.Context, req AuthzRequest) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, req AuthzRequest) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, req AuthzRequest) error { return f(ctx, req) }

// WithAuthorizer checks every send, subscription and lifecycle operation
// with a (default: none, everything allowed, as before). A denial is an
// error wrapping ErrDenied for the caller, a FIPA refuse for a sending
// agent, an audit record, and never a retry or a dead letter.
func WithAuthorizer(a Authorizer) Option {
	return func(cfg *config) error {
		cfg.authorizer = a
		return nil
	}
}

// DeniedError is a refusal by the authorizer.
type DeniedError struct {
	Request AuthzRequest
	Reason  string
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("caxton: %s may not %s %s: %s", e.Request.Subject, e.Request.describe(), e.Request.Target, e.Reason)
}

// Unwrap returns ErrDenied.
func (e *DeniedError) Unwrap() error { return ErrDenied }

func (r AuthzRequest) describe() string {
	if r.Action == ActionSend {
		return "send " + r.Performative.String() + " to"
	}
	if r.Action == ActionSubscribe {
		return "subscribe to"
	}
	return r.Action.String()
}

// Identity is who asks the runtime for a lifecycle operation on whose
// behalf: a server, gateway or MCP face puts the caller's identity in the
// context (WithIdentity), and the authorizer and audit trail see it.
type Identity struct {
	Name  string
	Roles []string
}

type identityKey struct{}

// WithIdentity returns ctx carrying id, for lifecycle calls made on id's
// behalf.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity ctx carries, if any.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// subjectOf is the subject of a message's origin.
func subjectOf(o origin) Subject {
	switch o.kind {
	case originNative, originWasm:
		return Subject{Kind: SubjectAgent, Name: string(o.name), Roles: o.agent.spec.Roles, Wasm: o.kind == originWasm}
	case originInbox:
		return Subject{Kind: SubjectInbox, Name: string(o.name)}
	}
	return Subject{Kind: SubjectHost}
}

// authorizeSend asks the authorizer about each addressed receiver of m.
// The runtime's own notices are not checked.
func (rt *Runtime) authorizeSend(ctx context.Context, m *acl.Message, o origin, receivers []acl.AgentID) error {
	if o.kind == originSystem {
		return nil
	}
	sub := subjectOf(o)
	for _, r := range receivers {
		req := AuthzRequest{Action: ActionSend, Subject: sub, Target: string(r), Performative: m.Performative, Protocol: m.Protocol}
		if err := rt.cfg.authorizer.Authorize(ctx, req); err != nil {
			de := &DeniedError{Request: req, Reason: err.Error()}
			rt.auditf(AuditDenied, sub.String(), "send "+m.Performative.String(), string(r), false, err.Error(), traceID(ctx))
			rt.tel.Denied(ctx, o.name, ActionSend.String())
			rt.notifyRefuse(o.agent, m, de)
			return de
		}
	}
	return nil
}

// authorizeSubscribe asks whether sub may subscribe to topic.
func (rt *Runtime) authorizeSubscribe(ctx context.Context, sub Subject, topic string) error {
	if rt.cfg.authorizer == nil {
		return nil
	}
	req := AuthzRequest{Action: ActionSubscribe, Subject: sub, Target: topic}
	if err := rt.cfg.authorizer.Authorize(ctx, req); err != nil {
		rt.auditf(AuditDenied, sub.String(), "subscribe", topic, false, err.Error(), traceID(ctx))
		rt.tel.Denied(ctx, acl.AgentID(sub.Name), ActionSubscribe.String())
		return &DeniedError{Request: req, Reason: err.Error()}
	}
	return nil
}

// authorizeOp checks and audits a lifecycle operation. With an identity in
// ctx the authorizer decides; host code without one is trusted. Every
// operation is audited either way.
func (rt *Runtime) authorizeOp(ctx context.Context, act Action, target string) error {
	sub := Subject{Kind: SubjectHost}
	if id, ok := IdentityFrom(ctx); ok {
		sub = Subject{Kind: SubjectIdentity, Name: id.Name, Roles: id.Roles}
	}
	kind := AuditLifecycle
	if act == ActionReplay || act == ActionPurge {
		kind = AuditDeadLetters
	}
	if sub.Kind == SubjectIdentity && rt.cfg.authorizer != nil {
		req := AuthzRequest{Action: act, Subject: sub, Target: target}
		if err := rt.cfg.authorizer.Authorize(ctx, req); err != nil {
			rt.auditf(kind, sub.String(), act.String(), target, false, err.Error(), traceID(ctx))
			return &DeniedError{Request: req, Reason: err.Error()}
		}
	}
	rt.auditf(kind, sub.String(), act.String(), target, true, "", traceID(ctx))
	return nil
}

// notifyRefuse tells a sending agent, in FIPA terms, that its message was
// refused (by the authorizer or a quota): a refuse from the runtime's
// system name, queued ahead of its other mail without blocking.
func (rt *Runtime) notifyRefuse(from *agent, m *acl.Message, cause error) {
	if from == nil {
		return
	}
	f := m.CreateReplyWith(acl.Refuse, rt.ids.New(rt.clock.Now()).String())
	f.Receivers = []acl.AgentID{from.name()}
	f.Sender = rt.cfg.systemName
	f.Language = "text/plain"
	f.Content = []byte(truncateNotice(cause.Error()))
	f.Priority = acl.PriorityHigh
	f.CreatedAt = rt.stamps.now()
	f.ID = rt.ids.New(f.CreatedAt)
	if err := from.deliverNotice(f); err != nil {
		rt.logger.WarnContext(telemetry.Extract(rt.shutdown.base, m), "could not tell an agent its message was refused", "agent", from.name(), "message_id", m.ID, "error", err, "cause", cause)
	}
}

func traceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}
