// Package otelprop adapts OpenTelemetry's propagators to Caxton's
// telemetry.Propagator, for a program that configures propagation once for
// everything it runs (otel.SetTextMapPropagator) and wants its agents'
// messages to follow suit:
//
//	rt, err := caxton.New(caxton.WithTracerProvider(tp), caxton.WithPropagator(otelprop.Global()))
//
// It is a package of its own because go.opentelemetry.io/otel/propagation
// imports net/http, which importing caxton alone does not compile.
package otelprop

import (
	"context"

	"github.com/caxton-go/caxton/telemetry"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// Global returns a propagator that delegates, at each call, to the one
// registered with otel.SetTextMapPropagator — so one set after the runtime
// was created still applies. (OpenTelemetry's global default propagates
// nothing; set one, e.g. propagation.NewCompositeTextMapPropagator(
// propagation.TraceContext{}, propagation.Baggage{}).)
func Global() telemetry.Propagator { return global{} }

type global struct{}

func (global) Inject(ctx context.Context, c telemetry.TextMapCarrier) {
	otel.GetTextMapPropagator().Inject(ctx, c)
}

func (global) Extract(ctx context.Context, c telemetry.TextMapCarrier) context.Context {
	return otel.GetTextMapPropagator().Extract(ctx, c)
}

func (global) Fields() []string { return otel.GetTextMapPropagator().Fields() }

// Wrap adapts an OpenTelemetry propagator (a composite, B3, Jaeger, ...).
// A nil p is telemetry.DefaultPropagator().
func Wrap(p propagation.TextMapPropagator) telemetry.Propagator {
	if p == nil {
		return telemetry.DefaultPropagator()
	}
	return wrapped{p}
}

type wrapped struct{ p propagation.TextMapPropagator }

func (w wrapped) Inject(ctx context.Context, c telemetry.TextMapCarrier) { w.p.Inject(ctx, c) }

func (w wrapped) Extract(ctx context.Context, c telemetry.TextMapCarrier) context.Context {
	return w.p.Extract(ctx, c)
}

func (w wrapped) Fields() []string { return w.p.Fields() }
