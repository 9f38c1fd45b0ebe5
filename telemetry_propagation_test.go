package caxton_test

import (
	"context"
	"sync"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/telemetry"
	"github.com/caxton-go/caxton/telemetry/otelprop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// relay spawns front, which asks back, which answers with the tenant it
// finds in its context's baggage; front answers with its own and back's.
func relay(t *testing.T, rt *caxtontest.Runtime) {
	t.Helper()
	tenant := func(ctx context.Context) string { return baggage.FromContext(ctx).Member("tenant").Value() }
	rt.MustSpawn(caxton.AgentSpec{Name: "back", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		return mc.Reply(ctx, acl.Inform, []byte(tenant(ctx)))
	})})
	rt.MustSpawn(caxton.AgentSpec{Name: "front", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		ans, err := mc.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"back"}})
		if err != nil {
			return err
		}
		return mc.Reply(ctx, acl.Inform, []byte(tenant(ctx)+"/"+string(ans.Content)))
	})})
}

func withTenant(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	m, err := baggage.NewMember("tenant", "acme")
	require.NoError(t, err)
	b, err := baggage.New(m)
	require.NoError(t, err)
	return baggage.ContextWithBaggage(ctx, b)
}

// Baggage a caller puts in its context reaches every handler down the
// line (host → front → back), with the default propagator (providers set
// or not) and with OpenTelemetry's global one through otelprop.
func TestBaggageSurvivesHops(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func() []caxton.Option
	}{
		{"default propagator with a tracer", func() []caxton.Option {
			return []caxton.Option{caxton.WithTracerProvider(sdktrace.NewTracerProvider())}
		}},
		{"default propagator alone", func() []caxton.Option {
			return []caxton.Option{caxton.WithPropagator(telemetry.DefaultPropagator())}
		}},
		{"otel's global propagator", func() []caxton.Option {
			prev := otel.GetTextMapPropagator()
			t.Cleanup(func() { otel.SetTextMapPropagator(prev) })
			otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
			return []caxton.Option{caxton.WithPropagator(otelprop.Global())}
		}},
		{"an otel propagator wrapped", func() []caxton.Option {
			return []caxton.Option{caxton.WithPropagator(otelprop.Wrap(propagation.Baggage{}))}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := caxtontest.NewRuntime(t, tc.opts()...)
			relay(t, rt)
			ctx := withTenant(t, caxtontest.Context(t))
			reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"front"}})
			require.NoError(t, err)
			assert.Equal(t, "acme/acme", string(reply.Content))
		})
	}
}

// A propagator that carries nothing (OpenTelemetry's global default)
// loses the baggage: the propagator is the one used, not a hard-coded one.
func TestPropagatorIsTheOneConfigured(t *testing.T) {
	rt := caxtontest.NewRuntime(t, caxton.WithPropagator(otelprop.Wrap(propagation.NewCompositeTextMapPropagator())))
	relay(t, rt)
	reply, err := rt.Request(withTenant(t, caxtontest.Context(t)), &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"front"}})
	require.NoError(t, err)
	assert.Equal(t, "/", string(reply.Content))

	_, err = caxton.New(caxton.WithPropagator(nil))
	require.ErrorIs(t, err, caxton.ErrInvalidSpec)
	assert.Contains(t, err.Error(), "WithPropagator")
}

// Spans start with the semantic-convention attributes already set (a
// sampler sees them) and carry the module version as their scope's.
func TestSpansCarrySemconvAttributesAtStart(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	sampler := samplerFunc(func(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
		for _, kv := range p.Attributes {
			if kv.Key == telemetry.KeyDestination {
				mu.Lock()
				seen = append(seen, p.Name+"="+kv.Value.AsString())
				mu.Unlock()
			}
		}
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample}
	})
	rec := tracetest.NewSpanRecorder()
	rt := caxtontest.NewRuntime(t, caxton.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(rec))))
	relay(t, rt)
	_, err := rt.Request(caxtontest.Context(t), &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"front"}})
	require.NoError(t, err)
	caxtontest.Eventually(t, func() bool { return len(rec.Ended()) >= 4 }, "the spans to end")
	mu.Lock()
	defer mu.Unlock()
	assert.Subset(t, seen, []string{"send front=front", "process front=front", "send back=back", "process back=back"})
	for _, s := range rec.Ended() {
		assert.Equal(t, telemetry.ScopeName, s.InstrumentationScope().Name)
		assert.Equal(t, telemetry.ScopeVersion(), s.InstrumentationScope().Version)
	}
}

type samplerFunc func(sdktrace.SamplingParameters) sdktrace.SamplingResult

func (f samplerFunc) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult { return f(p) }
func (samplerFunc) Description() string                                                  { return "test" }
