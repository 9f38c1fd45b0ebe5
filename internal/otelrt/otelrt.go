// Package otelrt is the runtime's OpenTelemetry plumbing: the tracer, the
// instruments and the spans of sends and handling attempts. The names it
// records (span names, attribute keys, metric names) are public, in package
// telemetry; this package is how the runtime records them, and is not API.
package otelrt

import (
	"context"
	"sync"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Telemetry holds a runtime's tracer and instruments. A nil *Telemetry is
// valid and does nothing, which is how a runtime without providers pays
// nothing for telemetry on its hot path.
type Telemetry struct {
	tracer trace.Tracer
	meter  metric.Meter

	sent, delivered, failed, retried, deadLettered, fuel, denied metric.Int64Counter
	duration                                                     metric.Float64Histogram

	sets sync.Map // attrKey → *attrSet (cached, so measuring allocates nothing)
	reg  metric.Registration

	producer, consumer []trace.SpanStartOption
}

// attrSet holds ready-made option slices for one attribute set: passing a
// fresh variadic slice per measurement would allocate.
type attrSet struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

type attrKey struct {
	agent acl.AgentID
	perf  acl.Performative
}

// New creates the tracer and instruments from the providers (nil means
// noop for that signal).
func New(tp trace.TracerProvider, mp metric.MeterProvider) (*Telemetry, error) {
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	t := &Telemetry{tracer: tp.Tracer(telemetry.ScopeName), meter: mp.Meter(telemetry.ScopeName),
		producer: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer)},
		consumer: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}}
	var err error
	counter := func(name, unit, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = t.meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		return c
	}
	t.sent = counter(telemetry.MetricSent, "{message}", "Messages routed by the bus")
	t.delivered = counter(telemetry.MetricDelivered, "{message}", "Messages handled successfully")
	t.failed = counter(telemetry.MetricFailed, "{attempt}", "Failed handling attempts (errors, panics, traps)")
	t.retried = counter(telemetry.MetricRetried, "{message}", "Messages scheduled for another attempt")
	t.deadLettered = counter(telemetry.MetricDeadLettered, "{message}", "Messages moved to the dead-letter queue")
	t.fuel = counter(telemetry.MetricFuel, "{fuel}", "WebAssembly fuel consumed")
	t.denied = counter(telemetry.MetricDenied, "{request}", "Sends and subscriptions the authorizer refused")
	if err != nil {
		return nil, err
	}
	t.duration, err = t.meter.Float64Histogram(telemetry.MetricDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of one handler call (one batch for wasm agents)"),
		metric.WithExplicitBucketBoundaries(1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5))
	if err != nil {
		return nil, err
	}
	return t, nil
}

// AgentGauge is one agent's current figures for the observable gauges.
type AgentGauge struct {
	Agent       acl.AgentID
	Depth       int64
	Instances   int64
	MemoryBytes int64 // wasm agents only
	Wasm        bool
	State       string // running, stopped, failed
	CircuitOpen bool
	Restarts    int64 // instances replaced so far
}

// Observe registers the gauges; collect is called at each collection.
func (t *Telemetry) Observe(collect func() []AgentGauge) error {
	if t == nil {
		return nil
	}
	depth, err := t.meter.Int64ObservableGauge(telemetry.MetricDepth, metric.WithUnit("{message}"), metric.WithDescription("Messages queued for the agent"))
	if err != nil {
		return err
	}
	live, err := t.meter.Int64ObservableGauge(telemetry.MetricInstances, metric.WithUnit("{instance}"), metric.WithDescription("Live handler instances of the agent"))
	if err != nil {
		return err
	}
	mem, err := t.meter.Int64ObservableGauge(telemetry.MetricMemory, metric.WithUnit("By"), metric.WithDescription("Linear memory of the agent's wasm instances"))
	if err != nil {
		return err
	}
	up, err := t.meter.Int64ObservableGauge(telemetry.MetricUp, metric.WithDescription("1 while the agent runs, 0 when stopped or failed (caxton.state says which)"))
	if err != nil {
		return err
	}
	circuit, err := t.meter.Int64ObservableGauge(telemetry.MetricCircuitOpen, metric.WithDescription("1 while the agent's circuit breaker is open"))
	if err != nil {
		return err
	}
	restarts, err := t.meter.Int64ObservableCounter(telemetry.MetricRestarts, metric.WithUnit("{instance}"), metric.WithDescription("Instances of the agent replaced after a panic, trap, broken instance or hung handler"))
	if err != nil {
		return err
	}
	t.reg, err = t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, g := range collect() {
			set := metric.WithAttributes(telemetry.KeyAgent.String(string(g.Agent)))
			o.ObserveInt64(depth, g.Depth, set)
			o.ObserveInt64(live, g.Instances, set)
			if g.Wasm {
				o.ObserveInt64(mem, g.MemoryBytes, set)
			}
			isUp, open := int64(0), int64(0)
			if g.State == "running" {
				isUp = 1
			}
			if g.CircuitOpen {
				open = 1
			}
			o.ObserveInt64(up, isUp, metric.WithAttributes(telemetry.KeyAgent.String(string(g.Agent)), telemetry.KeyState.String(g.State)))
			o.ObserveInt64(circuit, open, set)
			o.ObserveInt64(restarts, g.Restarts, set)
		}
		return nil
	}, depth, live, mem, up, circuit, restarts)
	return err
}

// Close unregisters the gauges' callback.
func (t *Telemetry) Close() error {
	if t == nil || t.reg == nil {
		return nil
	}
	return t.reg.Unregister()
}

// attrs returns the cached metric options for an agent and act (act 0:
// the agent alone).
func (t *Telemetry) attrs(agent acl.AgentID, p acl.Performative) *attrSet {
	k := attrKey{agent, p}
	if v, ok := t.sets.Load(k); ok {
		return v.(*attrSet)
	}
	kvs := []attribute.KeyValue{telemetry.KeyAgent.String(string(agent))}
	if p != 0 {
		kvs = append(kvs, telemetry.KeyPerformative.String(p.String()))
	}
	opt := metric.WithAttributeSet(attribute.NewSet(kvs...))
	v, _ := t.sets.LoadOrStore(k, &attrSet{add: []metric.AddOption{opt}, rec: []metric.RecordOption{opt}})
	return v.(*attrSet)
}

// Span is a started span (zero when telemetry is off). It is a value: the
// runtime keeps it on the stack.
type Span struct {
	t    *Telemetry
	span trace.Span
	ctx  context.Context
}

// Context is the span's context (for handlers, logs and sends).
func (s Span) Context() context.Context { return s.ctx }

// Active reports whether the span records anything.
func (s Span) Active() bool { return s.span != nil }

// StartSend starts the producer span of a send and injects its context
// into m, so whoever handles m continues the trace. The parent is ctx's
// span, or else the trace context m already carries.
func (t *Telemetry) StartSend(ctx context.Context, m *acl.Message) Span {
	if t == nil {
		return Span{ctx: ctx}
	}
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = telemetry.Extract(ctx, m)
	}
	ctx, sp := t.tracer.Start(ctx, spanName(sendNames[:], "send ", m.Performative), t.producer...)
	if sp.IsRecording() {
		sp.SetAttributes(telemetry.KeyMessagingSystem.String("caxton"), telemetry.KeyMessagingOperation.String("send"),
			telemetry.KeySender.String(string(m.Sender)), telemetry.KeyReceivers.StringSlice(idStrings(m.Receivers)),
			telemetry.KeyPerformative.String(m.Performative.String()))
		optional(sp, m)
	}
	if sp.SpanContext().IsValid() {
		telemetry.Inject(ctx, m)
	}
	return Span{t: t, span: sp, ctx: ctx}
}

// EndSend ends a send span: the message's id (stamped by then) and the
// routing error, if any; it counts the send.
func (s Span) EndSend(m *acl.Message, err error) {
	if s.t == nil {
		return
	}
	s.t.sent.Add(s.ctx, 1, s.t.attrs(m.Sender, m.Performative).add...)
	if s.span.IsRecording() {
		s.span.SetAttributes(telemetry.KeyMessageID.String(m.ID.String()))
		if err != nil {
			s.span.RecordError(err)
			s.span.SetStatus(codes.Error, err.Error())
		}
	}
	s.span.End()
}

// StartProcess starts the consumer span of one handling attempt of m by an
// agent instance, as a child of the sender's span carried in m.
func (t *Telemetry) StartProcess(ctx context.Context, m *acl.Message, agent acl.AgentID, instance, attempt int) Span {
	if t == nil {
		return Span{ctx: ctx}
	}
	ctx, sp := t.tracer.Start(telemetry.Extract(ctx, m), spanName(processNames[:], "process ", m.Performative), t.consumer...)
	if sp.IsRecording() {
		sp.SetAttributes(telemetry.KeyMessagingSystem.String("caxton"), telemetry.KeyMessagingOperation.String("process"),
			telemetry.KeyAgent.String(string(agent)), telemetry.KeyInstance.Int(instance), telemetry.KeyAttempt.Int(attempt),
			telemetry.KeySender.String(string(m.Sender)), telemetry.KeyPerformative.String(m.Performative.String()),
			telemetry.KeyMessageID.String(m.ID.String()))
		optional(sp, m)
	}
	return Span{t: t, span: sp, ctx: ctx}
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
// duration from start.
func (s Span) EndProcess(agent acl.AgentID, p acl.Performative, start time.Time, out Outcome, err error) {
	if s.t == nil {
		return
	}
	set := s.t.attrs(agent, p)
	s.t.duration.Record(s.ctx, time.Since(start).Seconds(), set.rec...)
	if out == Delivered {
		s.t.delivered.Add(s.ctx, 1, set.add...)
	} else {
		s.t.failed.Add(s.ctx, 1, set.add...)
	}
	if out == Retrying {
		s.t.retried.Add(s.ctx, 1, set.add...)
	}
	if s.span.IsRecording() {
		s.span.SetAttributes(telemetry.KeyOutcome.String(outcomeNames[out]))
		if err != nil {
			s.span.RecordError(err)
			s.span.SetStatus(codes.Error, err.Error())
		}
	}
	s.span.End()
}

// Denied counts a send or subscription the authorizer refused.
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
	t.deadLettered.Add(ctx, 1, t.attrs(agent, m.Performative).add...)
	if sp := trace.SpanFromContext(ctx); sp.IsRecording() {
		sp.AddEvent("dead_lettered", trace.WithAttributes(telemetry.KeyReason.String(reason), telemetry.KeyMessageID.String(m.ID.String())))
	}
}

// Fuel counts wasm fuel consumed by an agent.
func (t *Telemetry) Fuel(ctx context.Context, agent acl.AgentID, fuel uint64) {
	if t == nil || fuel == 0 {
		return
	}
	t.fuel.Add(ctx, int64(fuel), t.attrs(agent, 0).add...)
}

// Tracer returns the runtime's tracer (for protocol spans).
func (t *Telemetry) Tracer() trace.Tracer {
	if t == nil {
		return tracenoop.NewTracerProvider().Tracer(telemetry.ScopeName)
	}
	return t.tracer
}

// optional sets the attributes a message may not have, only when it does.
func optional(sp trace.Span, m *acl.Message) {
	if m.Protocol != "" {
		sp.SetAttributes(telemetry.KeyProtocol.String(m.Protocol))
	}
	if m.ConversationID != "" {
		sp.SetAttributes(telemetry.KeyConversationID.String(m.ConversationID))
	}
}

// Span names per performative, built once: a name is a string
// concatenation that would otherwise allocate on every message.
var sendNames, processNames [32]string

func init() {
	for p := range sendNames {
		sendNames[p] = "send " + acl.Performative(p).String()
		processNames[p] = "process " + acl.Performative(p).String()
	}
}

func spanName(names []string, prefix string, p acl.Performative) string {
	if int(p) >= 0 && int(p) < len(names) {
		return names[p]
	}
	return prefix + p.String()
}

func idStrings(ids []acl.AgentID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}
