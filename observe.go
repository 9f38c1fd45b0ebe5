package caxton

import (
	"github.com/caxton-go/caxton/acl"
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

// TracerProvider-less runtimes have a nil *telemetry.Telemetry: every call
// on it is a no-op that allocates nothing.
func (rt *Runtime) setupTelemetry() error {
	if rt.cfg.tracerProvider == nil && rt.cfg.meterProvider == nil {
		return nil
	}
	tel, err := telemetry.New(rt.cfg.tracerProvider, rt.cfg.meterProvider)
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
func (rt *Runtime) gauges() []telemetry.AgentGauge {
	agents := rt.agentsSnapshot()
	out := make([]telemetry.AgentGauge, 0, len(agents))
	for _, a := range agents {
		if a.internal {
			continue
		}
		g := telemetry.AgentGauge{Agent: a.name(), Wasm: a.spec.Wasm != nil}
		for _, in := range a.instances {
			g.Depth += int64(in.mb.Depth())
			if in.alive.Load() {
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
func parentFor(m *acl.Message, in []*acl.Message, spans []telemetry.Span) telemetry.Span {
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
