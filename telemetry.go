package caxton

import (
	"context"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/otelrt"
	"github.com/caxton-go/caxton/store"
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

// TracerProvider-less runtimes have a nil *otelrt.Telemetry: every call
// on it is a no-op that allocates nothing.
func (rt *Runtime) setupTelemetry() error {
	if rt.cfg.tracerProvider == nil && rt.cfg.meterProvider == nil {
		return nil
	}
	tel, err := otelrt.New(rt.cfg.tracerProvider, rt.cfg.meterProvider)
	if err != nil {
		return err
	}
	if err := tel.Observe(rt.gauges); err != nil {
		return err
	}
	rt.tel = tel
	return nil
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
