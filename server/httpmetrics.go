package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.40.0/httpconv"
)

// httpMetrics are the server's own metrics, in the OpenTelemetry HTTP
// semantic conventions (http.server.request.duration,
// http.server.active_requests), so that dashboards made for any HTTP
// server read them. The route attribute is the route's pattern
// ("/v1/agents/{name}"), never the path, so agent names do not multiply
// the series. A WebSocket join counts as one request lasting as long as
// the connection.
type httpMetrics struct {
	duration httpconv.ServerRequestDuration
	active   httpconv.ServerActiveRequests
}

const meterName = "github.com/caxton-go/caxton/server"

func newHTTPMetrics(mp metric.MeterProvider) (*httpMetrics, error) {
	m := mp.Meter(meterName)
	d, err := httpconv.NewServerRequestDuration(m)
	if err != nil {
		return nil, err
	}
	a, err := httpconv.NewServerActiveRequests(m)
	if err != nil {
		return nil, err
	}
	return &httpMetrics{duration: d, active: a}, nil
}

// begin counts a request in; the returned func records it when done.
func (h *httpMetrics) begin(r *http.Request, pattern string) func(status int) {
	if h == nil {
		return func(int) {}
	}
	ctx := context.WithoutCancel(r.Context())
	method := httpconv.RequestMethodAttr(r.Method)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	start := time.Now()
	h.active.Add(ctx, 1, method, scheme)
	return func(status int) {
		h.active.Add(ctx, -1, method, scheme)
		attrs := []attribute.KeyValue{h.duration.AttrRoute(pattern), h.duration.AttrResponseStatusCode(status)}
		if status >= 500 {
			attrs = append(attrs, h.duration.AttrErrorType(httpconv.ErrorTypeAttr(strconv.Itoa(status))))
		}
		h.duration.Record(ctx, time.Since(start).Seconds(), method, scheme, attrs...)
	}
}
