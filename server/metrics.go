package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// NewPrometheus makes an OpenTelemetry MeterProvider whose metrics are
// exposed in the Prometheus format by the returned handler, through the
// OpenTelemetry Prometheus exporter (no hand-written exposition). Give the
// provider to the runtime (caxton.WithMeterProvider) and the handler to
// the server (WithMetrics); shut the provider down after the runtime
// closes. Each call has its own registry: two servers in one process do
// not see each other's metrics.
func NewPrometheus() (*sdkmetric.MeterProvider, http.Handler, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return mp, h, nil
}
