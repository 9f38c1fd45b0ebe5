package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/baggage"
)

// TextMapCarrier is where a Propagator reads and writes its fields: for
// the runtime, a message's TraceContext map (Carrier). It has the method
// set of OpenTelemetry's propagation.TextMapCarrier, so a carrier passes
// straight to an OpenTelemetry propagator (package telemetry/otelprop); it
// is declared here because that package imports net/http, which importing
// caxton does not compile.
type TextMapCarrier interface {
	// Get returns the value stored for key, or "".
	Get(key string) string
	// Set stores key=value.
	Set(key, value string)
	// Keys lists the keys stored.
	Keys() []string
}

// Propagator moves cross-cutting context — the span, baggage — between a
// context and a message, so it survives the hop to the next agent. The
// runtime injects on every send and extracts on every handling attempt;
// caxton.WithPropagator chooses which propagator. The method set is
// OpenTelemetry's propagation.TextMapPropagator's over TextMapCarrier;
// otelprop.Global adapts the globally configured OpenTelemetry propagator.
type Propagator interface {
	// Inject writes ctx's context into c.
	Inject(ctx context.Context, c TextMapCarrier)
	// Extract returns ctx with the context found in c added; c without
	// any (or with a malformed one) leaves ctx as it is.
	Extract(ctx context.Context, c TextMapCarrier) context.Context
	// Fields lists the keys Inject may set.
	Fields() []string
}

// DefaultPropagator returns what the runtime uses unless told otherwise:
// W3C trace context then W3C baggage (the OpenTelemetry SDKs' default), so
// both the trace and what a caller put in baggage reach every handler.
func DefaultPropagator() Propagator { return Propagators(TraceContext{}, Baggage{}) }

// TraceContext propagates the span context in the W3C trace-context format
// ("traceparent", and "tracestate" when there is one), as OpenTelemetry's
// propagation.TraceContext does (a test and a fuzz target check they
// agree; see Inject for why it is not imported).
type TraceContext struct{}

// Inject writes ctx's span context into c, if ctx has a valid one.
func (TraceContext) Inject(ctx context.Context, c TextMapCarrier) { injectTraceContext(ctx, c) }

// Extract returns ctx carrying the remote span context found in c.
func (TraceContext) Extract(ctx context.Context, c TextMapCarrier) context.Context {
	return extractTraceContext(ctx, c)
}

// Fields returns "traceparent" and "tracestate".
func (TraceContext) Fields() []string { return []string{traceparentKey, tracestateKey} }

// Baggage propagates OpenTelemetry baggage in the W3C baggage format (the
// "baggage" key), as OpenTelemetry's propagation.Baggage does.
type Baggage struct{}

const baggageKey = "baggage"

// Inject writes ctx's baggage into c, if it has any members.
func (Baggage) Inject(ctx context.Context, c TextMapCarrier) {
	if s := baggage.FromContext(ctx).String(); s != "" {
		c.Set(baggageKey, s)
	}
}

// Extract returns ctx with the baggage found in c; malformed baggage is
// ignored, as the W3C specification allows.
func (Baggage) Extract(ctx context.Context, c TextMapCarrier) context.Context {
	s := c.Get(baggageKey)
	if s == "" {
		return ctx
	}
	b, err := baggage.Parse(s)
	if err != nil || b.Len() == 0 {
		return ctx
	}
	return baggage.ContextWithBaggage(ctx, b)
}

// Fields returns "baggage".
func (Baggage) Fields() []string { return []string{baggageKey} }

// Propagators combines propagators: Inject and Extract run each in order.
func Propagators(ps ...Propagator) Propagator {
	out := make(composite, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

type composite []Propagator

func (c composite) Inject(ctx context.Context, carrier TextMapCarrier) {
	for _, p := range c {
		p.Inject(ctx, carrier)
	}
}

func (c composite) Extract(ctx context.Context, carrier TextMapCarrier) context.Context {
	for _, p := range c {
		ctx = p.Extract(ctx, carrier)
	}
	return ctx
}

func (c composite) Fields() []string {
	var out []string
	for _, p := range c {
		out = append(out, p.Fields()...)
	}
	return out
}
