package telemetry_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Carrier is an OpenTelemetry TextMapCarrier.
var _ propagation.TextMapCarrier = telemetry.Carrier{}

// traceContextSeeds are traceparent/tracestate pairs, good and bad.
var traceContextSeeds = [][2]string{
	{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"},
	{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", ""},
	{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", "bad state!"},
	{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-04", ""},          // reserved flag in version 00
	{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", ""},    // extra field in version 00
	{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra", "a=b"}, // a later version may add fields
	{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""},          // invalid version
	{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", ""},          // upper case
	{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", ""},          // zero trace id
	{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", ""},          // zero span id
	{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01", ""},           // short span id
	{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bg-01", ""},          // not hex
	{"0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""},           // short version
	{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", ""},             // no flags
	{"", "a=b"},
}

// checkAgainstOTel compares Extract, and Inject of what was extracted,
// with OpenTelemetry's W3C propagator, which the package used to call.
func checkAgainstOTel(t *testing.T, parent, state string) {
	m := acl.New(acl.Inform, "x")
	m.TraceContext = map[string]string{"traceparent": parent}
	if state != "" {
		m.TraceContext["tracestate"] = state
	}
	otel := propagation.TraceContext{}
	want := trace.SpanContextFromContext(otel.Extract(context.Background(), propagation.MapCarrier(m.TraceContext)))
	ctx := telemetry.Extract(context.Background(), m)
	got := trace.SpanContextFromContext(ctx)
	if !assert.True(t, want.Equal(got), "extract %q %q: want %v, got %v", parent, state, want, got) {
		return
	}
	if !got.IsValid() {
		assert.Equal(t, context.Background(), ctx, "nothing valid: ctx unchanged")
		return
	}
	wantOut := propagation.MapCarrier{}
	otel.Inject(ctx, wantOut)
	out := acl.New(acl.Inform, "x")
	telemetry.Inject(ctx, out)
	assert.Equal(t, map[string]string(wantOut), out.TraceContext, "inject %q %q", parent, state)
}

func TestTraceContextMatchesOpenTelemetrysPropagator(t *testing.T) {
	for _, s := range traceContextSeeds {
		checkAgainstOTel(t, s[0], s[1])
	}
}

func FuzzTraceContextMatchesOpenTelemetrysPropagator(f *testing.F) {
	for _, s := range traceContextSeeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, parent, state string) {
		if parent == "" {
			return // Extract returns at once; OTel's needs no comparison
		}
		checkAgainstOTel(t, parent, state)
	})
}
