//go:build otlp

package main

import (
	"context"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/sdk/trace"
)

// otlpProviders exports traces and metrics over OTLP/HTTP to the endpoint
// in the standard OTEL_EXPORTER_OTLP_* variables.
func otlpProviders(ctx context.Context, res *resource.Resource) (*trace.TracerProvider, *metric.MeterProvider, error) {
	te, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, err
	}
	me, err := otlpmetrichttp.New(ctx)
	if err != nil {
		return nil, nil, err
	}
	return trace.NewTracerProvider(trace.WithBatcher(te), trace.WithResource(res)),
		metric.NewMeterProvider(metric.WithReader(metric.NewPeriodicReader(me)), metric.WithResource(res)), nil
}
