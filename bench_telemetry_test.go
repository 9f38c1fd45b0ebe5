package caxton_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// telemetrySetups are the configurations compared by the telemetry
// benchmarks: off (the default), explicit noop providers, and the real SDK
// (every span sampled, batched to an exporter that drops them; metrics
// aggregated by a manual reader).
func telemetrySetups(b *testing.B) map[string][]caxton.Option {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return map[string][]caxton.Option{
		"off":  nil,
		"noop": {caxton.WithTracerProvider(tracenoop.NewTracerProvider()), caxton.WithMeterProvider(metricnoop.NewMeterProvider())},
		"sdk":  {caxton.WithTracerProvider(tp), caxton.WithMeterProvider(mp)},
	}
}

// BenchmarkTelemetryOneToOne is BenchmarkOneToOne with telemetry off, on
// with noop providers, and on with the SDK: the cost of a send span, a
// handling span and the counters per message.
func BenchmarkTelemetryOneToOne(b *testing.B) {
	for _, name := range []string{"off", "noop", "sdk"} {
		b.Run(name, func(b *testing.B) {
			rt, err := caxton.New(telemetrySetups(b)[name]...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = rt.Close(context.Background()) })
			oneToOne(b, rt)
		})
	}
}

// BenchmarkTelemetryRequestReply is a request/reply round trip (two sends,
// one handling) in the same three configurations.
func BenchmarkTelemetryRequestReply(b *testing.B) {
	for _, name := range []string{"off", "noop", "sdk"} {
		b.Run(name, func(b *testing.B) {
			rt, err := caxton.New(telemetrySetups(b)[name]...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = rt.Close(context.Background()) })
			ctx := context.Background()
			if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(
				func(ctx context.Context, mc *caxton.MessageContext) error {
					return mc.Reply(ctx, acl.Inform, nil)
				})}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
