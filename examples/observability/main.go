// Command observability follows one customer request across agents with
// OpenTelemetry. A concierge agent (native Go) fails once and is retried,
// then asks a pricing agent (sandboxed WebAssembly, a Go guest) and answers;
// a broken wasm agent traps and its message is dead-lettered. Every send and every
// handling attempt is a span in one trace; metrics count what happened;
// log lines carry trace_id and span_id.
//
//	cd examples/observability
//	go run .                                             # the trace as a tree, and the metrics
//	go run . -json                                       # spans and metrics as OpenTelemetry's stdout JSON
//	OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \
//	  go run -tags otlp .                                # traces and metrics over OTLP/HTTP
//
// (see the README for viewing the trace in a local Jaeger). The example is
// a module of its own (go.mod here, with a replace to the repository), so
// its exporters are not requirements of the caxton module and do not reach
// the module graph of programs that import Caxton. The OTLP exporters are
// also behind the otlp build tag (otlp.go) because they bring gRPC and
// protobuf, about 140 packages, which its go test would otherwise compile.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
)

// The pricing agent is a Go program compiled to WebAssembly, checked in
// beside its source with a provenance file (pricing.wasm.sum); after
// changing it or the SDK, rebuild it with go generate (or make guests).
//
//go:generate go run github.com/caxton-go/caxton/cmd/caxton-guest build -o pricing/pricing.wasm ./pricing
//go:embed pricing/pricing.wasm
var pricingWasm []byte

// brokenWAT is a module in WebAssembly text (given as WasmSpec.WAT: the
// runtime compiles text only when asked) with Guest ABI v1's exports, whose
// handler traps on every call.
const brokenWAT = `(module
  (memory (export "memory") 1)
  (func (export "caxton_abi_version") (result i32) (i32.const 1))
  (func (export "caxton_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "caxton_handle") (param i32 i32) (result i64) unreachable))`

func main() {
	jsonOut := flag.Bool("json", false, "print spans and metrics as OpenTelemetry's stdout exporters' JSON instead of a tree")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *jsonOut); err != nil {
		fmt.Fprintln(os.Stderr, "observability:", err)
		os.Exit(1)
	}
}

// pipelines are the demo's trace and metric providers, and what to print
// when they have flushed.
type pipelines struct {
	tp    *trace.TracerProvider
	mp    *metric.MeterProvider
	where string
	spans *collector           // tree mode: the spans to print
	stats *metric.ManualReader // tree mode: the metrics to print
}

// providers builds the trace and metric pipelines: OTLP/HTTP when the
// standard OTEL_EXPORTER_OTLP_ENDPOINT variable is set (in a build with
// -tags otlp); otherwise collected in memory and printed as a tree, or
// with jsonOut printed by OpenTelemetry's stdout exporters as they come.
func providers(ctx context.Context, w io.Writer, jsonOut bool) (*pipelines, error) {
	res := resource.NewSchemaless(semconv.ServiceName("caxton-observability-demo"))
	if endpoint := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); endpoint != "" {
		tp, mp, err := otlpProviders(ctx, res)
		if err != nil {
			return nil, err
		}
		return &pipelines{tp: tp, mp: mp, where: "OTLP/HTTP to " + endpoint}, nil
	}
	if !jsonOut {
		spans, stats := &collector{}, metric.NewManualReader()
		return &pipelines{
			tp:    trace.NewTracerProvider(trace.WithSyncer(spans), trace.WithResource(res)),
			mp:    metric.NewMeterProvider(metric.WithReader(stats), metric.WithResource(res)),
			where: "stdout (a tree; -json for the exporters' JSON)", spans: spans, stats: stats,
		}, nil
	}
	te, err := stdouttrace.New(stdouttrace.WithWriter(w))
	if err != nil {
		return nil, err
	}
	me, err := stdoutmetric.New(stdoutmetric.WithWriter(w))
	if err != nil {
		return nil, err
	}
	return &pipelines{
		tp:    trace.NewTracerProvider(trace.WithSyncer(te), trace.WithResource(res)),
		mp:    metric.NewMeterProvider(metric.WithReader(metric.NewPeriodicReader(me, metric.WithInterval(time.Hour))), metric.WithResource(res)),
		where: "stdout (JSON)",
	}, nil
}

func run(ctx context.Context, w io.Writer, jsonOut bool) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	p, err := providers(ctx, w, jsonOut)
	if err != nil {
		return err
	}
	tp, mp := p.tp, p.mp
	fmt.Fprintf(w, "telemetry goes to %s\n", p.where)

	rt, err := caxton.New(
		caxton.WithTracerProvider(tp),
		caxton.WithMeterProvider(mp),
		caxton.WithLogger(slog.New(slog.NewTextHandler(w, nil))),
	)
	if err != nil {
		return err
	}

	var calls atomic.Int32
	agents := []caxton.AgentSpec{
		{Name: "pricing", Wasm: &caxton.WasmSpec{Module: pricingWasm}},
		{Name: "broken", Wasm: &caxton.WasmSpec{WAT: brokenWAT},
			Delivery: caxton.DeliveryPolicy{MaxAttempts: 1}},
		{Name: "concierge",
			Delivery: caxton.DeliveryPolicy{MaxAttempts: 3, Backoff: caxton.Backoff{Initial: 10 * time.Millisecond}},
			Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
				if calls.Add(1) == 1 {
					return errors.New("session cache cold") // retried
				}
				mc.Logger().InfoContext(ctx, "asking pricing", "attempt", mc.Attempt())
				quote, err := mc.Request(ctx, &acl.Message{Performative: acl.Request,
					Receivers: []acl.AgentID{"pricing"}, Content: []byte("quote: 3 nights")})
				if err != nil {
					return err
				}
				return mc.Reply(ctx, acl.Inform, append([]byte("confirmed, "), quote.Content...))
			})},
	}
	for _, spec := range agents {
		if err := rt.Spawn(ctx, spec); err != nil {
			return err
		}
	}

	// The host's own span is the root of the customer's trace.
	reqCtx, root := tp.Tracer("observability-demo").Start(ctx, "customer books a room")
	reply, err := rt.Request(reqCtx, &acl.Message{Performative: acl.Request,
		Receivers: []acl.AgentID{"concierge"}, Content: []byte("book 3 nights")})
	if err != nil {
		return err
	}
	if err := rt.Send(reqCtx, acl.New(acl.Inform, "broken")); err != nil {
		return err
	}
	root.End()
	fmt.Fprintf(w, "reply: %s\n", reply.Content)

	// Closing drains the agents (the broken one's message is dead-lettered
	// by then); flushing the providers prints or exports everything.
	if err := rt.Close(ctx); err != nil {
		return err
	}
	if err := tp.Shutdown(ctx); err != nil {
		return err
	}
	if p.stats != nil {
		fmt.Fprintln(w, "\nmetrics:")
		if err := printMetrics(ctx, w, p.stats); err != nil {
			return err
		}
	}
	if err := mp.Shutdown(ctx); err != nil {
		return err
	}
	if p.spans != nil {
		fmt.Fprintln(w, "\nspans:")
		printTree(w, p.spans.spans)
	}
	fmt.Fprintf(w, "trace id: %s\n", root.SpanContext().TraceID())
	return nil
}
