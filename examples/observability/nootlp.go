//go:build !otlp

package main

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/sdk/trace"
)

// otlpProviders stands in for otlp.go's in a build without the otlp tag.
func otlpProviders(context.Context, *resource.Resource) (*trace.TracerProvider, *metric.MeterProvider, error) {
	return nil, nil, errors.New("OTEL_EXPORTER_OTLP_ENDPOINT is set, but this build has no OTLP exporter: run it with go run -tags otlp ./examples/observability")
}
