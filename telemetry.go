package caxton

import (
	"context"
	"errors"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/otelrt"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/telemetry"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// WithTracerProvider makes the runtime trace every send (a producer span)
// and every handling attempt (a consumer span), linked across agents by the
// W3C trace context each message carries (acl.Message.TraceContext); see
// package telemetry for the span attributes. Default: no tracing, and no
// cost on the hot path.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(cfg *config) error {
		if tp == nil {
			return specErr("WithTracerProvider", "nil provider")
		}
		cfg.tracerProvider = tp
		return nil
	}
}

// WithMeterProvider makes the runtime record its metrics (package
// telemetry lists the instruments: messages sent, delivered, failed,
// retried and dead-lettered, handler duration, mailbox depth, live
// instances, sandbox memory and fuel). Default: no metrics.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(cfg *config) error {
		if mp == nil {
			return specErr("WithMeterProvider", "nil provider")
		}
		cfg.meterProvider = mp
		return nil
	}
}

// WithPropagator sets how context crosses from a sender to a handler in
// the message's TraceContext field: the span (so the handler's span
// continues the sender's trace) and baggage (so a value a caller put in
// its context reaches every handler down the line). Default:
// telemetry.DefaultPropagator(), W3C trace context and W3C baggage; to use
// the propagator configured globally for OpenTelemetry
// (otel.SetTextMapPropagator), pass otelprop.Global() from package
// telemetry/otelprop. A propagator works with or without providers: with
// it alone, nothing is recorded but context still flows.
func WithPropagator(p telemetry.Propagator) Option {
	return func(cfg *config) error {
		if p == nil {
			return specErr("WithPropagator", "nil propagator")
		}
		cfg.propagator = p
		return nil
	}
}

// Runtimes without providers or a propagator have a nil *otelrt.Telemetry:
// every call on it is a no-op that allocates nothing.
func (rt *Runtime) setupTelemetry() error {
	if rt.cfg.tracerProvider == nil && rt.cfg.meterProvider == nil && rt.cfg.propagator == nil {
		return nil
	}
	tel, err := otelrt.New(otelrt.Config{Tracer: rt.cfg.tracerProvider, Meter: rt.cfg.meterProvider,
		Propagator: rt.cfg.propagator, ErrorType: errorType})
	if err != nil {
		return err
	}
	if err := tel.Observe(rt.gauges); err != nil {
		return err
	}
	rt.tel = tel
	return nil
}

// errorTypes map the runtime's errors to the error.type attribute of spans
// and metrics, first match first (a wasm failure is also ErrInstanceBroken).
var errorTypes = []struct {
	err  error
	name string
}{
	{context.DeadlineExceeded, telemetry.ErrorTypeTimeout},
	{context.Canceled, telemetry.ErrorTypeCanceled},
	{ErrAgentNotFound, telemetry.ErrorTypeAgentNotFound},
	{ErrMailboxFull, telemetry.ErrorTypeMailboxFull},
	{ErrNoSubscribers, telemetry.ErrorTypeNoSubscribers},
	{acl.ErrInvalid, telemetry.ErrorTypeInvalidMessage},
	{ErrClosed, telemetry.ErrorTypeClosed},
}

// errorType names err for error.type (telemetry.ErrorType* values).
func errorType(err error) string {
	var se *sandbox.Error
	if errors.As(err, &se) {
		switch se.Kind {
		case sandbox.KindDeadline:
			return telemetry.ErrorTypeTimeout
		case sandbox.KindGuestFailed:
			return telemetry.ErrorTypeGuestFailed
		case sandbox.KindGuestPermanent:
			return telemetry.ErrorTypePermanent
		case sandbox.KindABIViolation, sandbox.KindInvalidModule:
			return telemetry.ErrorTypeWasmABI
		}
		return telemetry.ErrorTypeWasmTrap
	}
	var pe *PanicError
	switch {
	case errors.As(err, &pe):
		return telemetry.ErrorTypePanic
	case errors.Is(err, ErrPermanent):
		return telemetry.ErrorTypePermanent
	case errors.Is(err, ErrInstanceBroken):
		return telemetry.ErrorTypeInstanceBroken
	}
	for _, e := range errorTypes {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	return telemetry.ErrorTypeOther
}

// gauges reports each agent's queue depth, live instances and sandbox
// memory for the observable instruments.
func (rt *Runtime) gauges() []otelrt.AgentGauge {
	agents := rt.agentsSnapshot()
	out := make([]otelrt.AgentGauge, 0, len(agents))
	for _, a := range agents {
		if a.internal {
			continue
		}
		g := otelrt.AgentGauge{Agent: a.name(), Wasm: a.version().wasm != nil, State: a.state().String(),
			CircuitOpen: a.brk.state() == BreakerOpen, Restarts: int64(a.stats.restarts.Load())}
		for _, in := range a.all() {
			g.Depth += int64(in.mb.Depth())
			if in.live.Load() != nil {
				g.Instances++
			}
			if w := in.wasm.Load(); w != nil {
				g.MemoryBytes += w.MemoryBytes()
			}
		}
		out = append(out, g)
	}
	return out
}

// fuelReporter is a BatchHandler that knows what its last batch cost (the
// wasm adapter).
type fuelReporter interface{ FuelUsed() uint64 }

// parentFor picks the span an outbox message continues: the batch message
// it answers (by reply-with, then by conversation), else the first one. A
// batch mixes conversations; this keeps a reply in its request's trace.
func parentFor(m *acl.Message, in []*acl.Message, spans []otelrt.Span) otelrt.Span {
	if m.InReplyTo != "" {
		for i, x := range in {
			if x.ReplyWith == m.InReplyTo {
				return spans[i]
			}
		}
	}
	if m.ConversationID != "" {
		for i, x := range in {
			if x.ConversationID == m.ConversationID {
				return spans[i]
			}
		}
	}
	return spans[0]
}

// outcomeOf maps a failed attempt's outcome to telemetry's.
func outcomeOf(o outcome) otelrt.Outcome {
	switch o {
	case finished:
		return otelrt.DeadLettered
	case abandoned:
		return otelrt.Interrupted
	case delivered:
		return otelrt.Delivered
	}
	return otelrt.Retrying
}

// startBatchSpans starts one consumer span per message of a batch (nil
// when telemetry is off), each continuing its own sender's trace.
func (in *instance) startBatchSpans(envs []*store.Envelope) []otelrt.Span {
	tel := in.a.rt.tel
	if tel == nil {
		return nil
	}
	spans := make([]otelrt.Span, len(envs))
	for i, e := range envs {
		spans[i] = tel.StartProcess(in.runCtx, e.Msg, in.a.name(), in.replica, e.Attempts)
	}
	return spans
}

// recordFuel puts a wasm batch's size and fuel on its spans and counts the
// fuel.
func (in *instance) recordFuel(ctx context.Context, spans []otelrt.Span) {
	if len(spans) == 0 {
		return
	}
	fr, ok := in.cur.h.(fuelReporter)
	if !ok {
		return
	}
	fuel := fr.FuelUsed()
	for _, sp := range spans {
		sp.SetWasm(len(spans), fuel)
	}
	in.a.rt.tel.Fuel(ctx, in.a.name(), fuel)
}

func (in *instance) endSpan(spans []otelrt.Span, envs []*store.Envelope, i int, start time.Time, out otelrt.Outcome, err error) {
	if len(spans) > 0 {
		spans[i].EndProcess(in.a.name(), envs[i].Msg.Performative, start, out, err)
	}
}

func (in *instance) endSpans(spans []otelrt.Span, envs []*store.Envelope, start time.Time, out otelrt.Outcome, err error) {
	for i := range spans {
		in.endSpan(spans, envs, i, start, out, err)
	}
}
