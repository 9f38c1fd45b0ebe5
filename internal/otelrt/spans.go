package otelrt

import (
	"context"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Span is a started span (zero when telemetry is off). It is a value: the
// runtime keeps it on the stack.
type Span struct {
	t    *Telemetry
	span trace.Span
	ctx  context.Context
	dest acl.AgentID // the single receiver of a send, if there is one
}

// Context is the span's context (for handlers, logs and sends).
func (s Span) Context() context.Context { return s.ctx }

// Active reports whether the span records anything.
func (s Span) Active() bool { return s.span != nil }

// The span kinds, as start options made once.
var (
	producer = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer)}
	consumer = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}
)

// spanNames are an agent's span names, built once: a name is a string
// concatenation that would otherwise allocate on every message.
type spanNames struct{ send, process string }

func (t *Telemetry) namesOf(id acl.AgentID) *spanNames {
	if v, ok := t.names.Load(id); ok {
		return v.(*spanNames)
	}
	v, _ := t.names.LoadOrStore(id, &spanNames{send: "send " + string(id), process: "process " + string(id)})
	return v.(*spanNames)
}

// StartSend starts the producer span of a send, named "send {destination}"
// ("send" alone when the message goes to several receivers), and injects
// its context (and, with the default propagator, ctx's baggage) into m, so
// whoever handles m continues the trace. The parent is ctx's span, or else
// the context m already carries.
func (t *Telemetry) StartSend(ctx context.Context, m *acl.Message) Span {
	if t == nil {
		return Span{ctx: ctx}
	}
	if !trace.SpanContextFromContext(ctx).IsValid() && len(m.TraceContext) > 0 {
		ctx = t.prop.Extract(ctx, telemetry.Carrier{M: m})
	}
	name, dest := "send", acl.AgentID("")
	if len(m.Receivers) == 1 {
		dest = m.Receivers[0]
		name = t.namesOf(dest).send
	}
	opts := producer
	if t.tracing { // the attributes a sampler sees; not built for the noop tracer
		attrs := make([]attribute.KeyValue, 0, 10)
		attrs = append(attrs, messagingSystem, opNameSend, opTypeSend,
			telemetry.KeySender.String(string(m.Sender)), telemetry.KeyPerformative.String(m.Performative.String()))
		if dest != "" {
			attrs = append(attrs, telemetry.KeyDestination.String(string(dest)))
		} else {
			attrs = append(attrs, telemetry.KeyReceivers.StringSlice(idStrings(m.Receivers)))
		}
		if !m.ID.IsZero() {
			attrs = append(attrs, telemetry.KeyMessageID.String(m.ID.String()))
		}
		opts = []trace.SpanStartOption{producer[0], trace.WithAttributes(optional(attrs, m)...)}
	}
	ctx, sp := t.tracer.Start(ctx, name, opts...)
	t.prop.Inject(ctx, telemetry.Carrier{M: m})
	return Span{t: t, span: sp, ctx: ctx, dest: dest}
}

// EndSend ends a send span: the message's id when the runtime stamped it
// during the send, and the routing error, if any; it counts the send.
func (s Span) EndSend(m *acl.Message, err error) {
	if s.t == nil {
		return
	}
	et := s.t.errType(err)
	s.t.sent.Add(s.ctx, 1, s.t.attrs(attrKey{op: opSend, sender: m.Sender, dest: s.dest, perf: m.Performative, errType: et}).add...)
	if s.span.IsRecording() {
		s.span.SetAttributes(telemetry.KeyMessageID.String(m.ID.String()))
		if err != nil {
			s.span.SetAttributes(telemetry.KeyErrorType.String(et))
			s.span.RecordError(err)
			s.span.SetStatus(codes.Error, err.Error())
		}
	}
	s.span.End()
}

// StartProcess starts the consumer span of one handling attempt of m by an
// agent instance, named "process {agent}", as a child of the sender's span
// carried in m; its context carries what the propagator extracted
// (baggage included) to the handler.
func (t *Telemetry) StartProcess(ctx context.Context, m *acl.Message, agent acl.AgentID, instance, attempt int) Span {
	if t == nil {
		return Span{ctx: ctx}
	}
	if len(m.TraceContext) > 0 {
		ctx = t.prop.Extract(ctx, telemetry.Carrier{M: m})
	}
	opts := consumer
	if t.tracing {
		attrs := make([]attribute.KeyValue, 0, 12)
		attrs = append(attrs, messagingSystem, opNameProcess, opTypeProcess,
			telemetry.KeyDestination.String(string(agent)), telemetry.KeyInstance.Int(instance), telemetry.KeyAttempt.Int(attempt),
			telemetry.KeySender.String(string(m.Sender)), telemetry.KeyPerformative.String(m.Performative.String()),
			telemetry.KeyMessageID.String(m.ID.String()))
		opts = []trace.SpanStartOption{consumer[0], trace.WithAttributes(optional(attrs, m)...)}
	}
	ctx, sp := t.tracer.Start(ctx, t.namesOf(agent).process, opts...)
	return Span{t: t, span: sp, ctx: ctx, dest: agent}
}

// SetWasm records a wasm batch's size and fuel on the span.
func (s Span) SetWasm(batchSize int, fuel uint64) {
	if s.t != nil && s.span.IsRecording() {
		s.span.SetAttributes(telemetry.KeyBatchSize.Int(batchSize), telemetry.KeyFuelUsed.Int64(int64(fuel)))
	}
}

// Outcome is what became of a handling attempt.
type Outcome uint8

// Outcomes of a handling attempt.
const (
	Delivered    Outcome = iota + 1 // handled successfully
	Retrying                        // failed; another attempt follows
	DeadLettered                    // failed; moved to the dead-letter queue
	Interrupted                     // failed; the worker stopped first (retried later)
)

var outcomeNames = [...]string{Delivered: "delivered", Retrying: "retry", DeadLettered: "dead_lettered", Interrupted: "interrupted"}

// EndProcess ends a handling span with its outcome and error, recording the
// duration from start and counting the attempt (with error.type when it
// failed).
func (s Span) EndProcess(agent acl.AgentID, p acl.Performative, start time.Time, out Outcome, err error) {
	if s.t == nil {
		return
	}
	et := ""
	if out != Delivered {
		et = s.t.errType(err)
		if et == "" {
			et = telemetry.ErrorTypeOther
		}
	}
	set := s.t.attrs(attrKey{op: opProcess, dest: agent, perf: p, errType: et})
	s.t.duration.Record(s.ctx, time.Since(start).Seconds(), set.rec...)
	s.t.consumed.Add(s.ctx, 1, set.add...)
	if out == Retrying {
		s.t.retried.Add(s.ctx, 1, s.t.attrs(attrKey{dest: agent, perf: p}).add...)
	}
	if s.span.IsRecording() {
		s.span.SetAttributes(telemetry.KeyOutcome.String(outcomeNames[out]))
		if et != "" {
			s.span.SetAttributes(telemetry.KeyErrorType.String(et))
		}
		if err != nil {
			s.span.RecordError(err)
			s.span.SetStatus(codes.Error, err.Error())
		}
	}
	s.span.End()
}

// Denied counts a send or subscription the authorizer refused, per subject
// (the agent acting, caxton.agent) and caxton.action.
func (t *Telemetry) Denied(ctx context.Context, subject acl.AgentID, action string) {
	if t == nil {
		return
	}
	t.denied.Add(ctx, 1, metric.WithAttributes(telemetry.KeyAgent.String(string(subject)), telemetry.KeyAction.String(action)))
}

// DeadLettered counts a message moved to the dead-letter queue and, when
// ctx has a recording span, records the event on it.
func (t *Telemetry) DeadLettered(ctx context.Context, agent acl.AgentID, m *acl.Message, reason string) {
	if t == nil {
		return
	}
	t.deadLettered.Add(ctx, 1, t.attrs(attrKey{dest: agent, perf: m.Performative}).add...)
	if sp := trace.SpanFromContext(ctx); sp.IsRecording() {
		sp.AddEvent("dead_lettered", trace.WithAttributes(telemetry.KeyReason.String(reason), telemetry.KeyMessageID.String(m.ID.String())))
	}
}

// CPUTime counts CPU time agent's handler calls used.
func (t *Telemetry) CPUTime(ctx context.Context, agent acl.AgentID, d time.Duration) {
	if t == nil {
		return
	}
	t.cpu.Add(ctx, d.Seconds(), t.attrs(attrKey{dest: agent}).add...)
}

// Fuel counts wasm fuel consumed by an agent.
func (t *Telemetry) Fuel(ctx context.Context, agent acl.AgentID, fuel uint64) {
	if t == nil || fuel == 0 {
		return
	}
	t.fuel.Add(ctx, int64(fuel), t.attrs(attrKey{dest: agent}).add...)
}

// optional appends the attributes a message may not have, only when it
// does.
func optional(attrs []attribute.KeyValue, m *acl.Message) []attribute.KeyValue {
	if m.Protocol != "" {
		attrs = append(attrs, telemetry.KeyProtocol.String(m.Protocol))
	}
	if m.ConversationID != "" {
		attrs = append(attrs, telemetry.KeyConversationID.String(m.ConversationID))
	}
	return attrs
}

func idStrings(ids []acl.AgentID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}
