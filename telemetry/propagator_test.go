package telemetry_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func TestDefaultPropagatorCarriesSpanAndBaggage(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	m, err := baggage.NewMemberRaw("tenant", "acme corp") // a value that needs escaping
	require.NoError(t, err)
	b, err := baggage.New(m)
	require.NoError(t, err)
	ctx := baggage.ContextWithBaggage(trace.ContextWithSpanContext(context.Background(), sc), b)

	p := telemetry.DefaultPropagator()
	assert.Equal(t, []string{"traceparent", "tracestate", "baggage"}, p.Fields())
	msg := acl.New(acl.Inform, "b")
	p.Inject(ctx, telemetry.Carrier{M: msg})

	// OpenTelemetry's own propagators read what it wrote...
	otelProp := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	got := otelProp.Extract(context.Background(), propagation.MapCarrier(msg.TraceContext))
	assert.Equal(t, sc.TraceID(), trace.SpanContextFromContext(got).TraceID())
	assert.Equal(t, "acme corp", baggage.FromContext(got).Member("tenant").Value())

	// ...and it reads what they write.
	carrier := propagation.MapCarrier{}
	otelProp.Inject(ctx, carrier)
	got = p.Extract(context.Background(), carrier)
	assert.Equal(t, sc.SpanID(), trace.SpanContextFromContext(got).SpanID())
	assert.True(t, trace.SpanContextFromContext(got).IsRemote())
	assert.Equal(t, "acme corp", baggage.FromContext(got).Member("tenant").Value())
}

func TestBaggageExtractIgnoresWhatItCannotRead(t *testing.T) {
	for name, header := range map[string]string{"absent": "", "malformed": "=;;=", "no members": " "} {
		carrier := propagation.MapCarrier{}
		if header != "" {
			carrier["baggage"] = header
		}
		ctx := telemetry.Baggage{}.Extract(context.Background(), carrier)
		assert.Zero(t, baggage.FromContext(ctx).Len(), name)
	}
	var empty propagation.MapCarrier = map[string]string{}
	telemetry.Baggage{}.Inject(context.Background(), empty)
	assert.Empty(t, empty, "no baggage, no key")
}

func TestPropagatorsSkipNilAndRunInOrder(t *testing.T) {
	p := telemetry.Propagators(nil, telemetry.Baggage{}, nil, telemetry.TraceContext{})
	assert.Equal(t, []string{"baggage", "traceparent", "tracestate"}, p.Fields())
	assert.Empty(t, telemetry.Propagators().Fields())
}

func TestMetaCarrierReadsStringsOnly(t *testing.T) {
	c := telemetry.MetaCarrier{"progressToken": 7.0}
	c.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", c.Get("traceparent"))
	assert.Empty(t, c.Get("progressToken"), "not a string")
	assert.Equal(t, []string{"progressToken", "traceparent"}, c.Keys())
	ctx := telemetry.DefaultPropagator().Extract(context.Background(), c)
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", trace.SpanContextFromContext(ctx).TraceID().String())
	var none telemetry.MetaCarrier
	none.Set("k", "v") // a nil map: nothing, no panic
	assert.Empty(t, none.Get("k"))
}
