package telemetry

import (
	"context"

	"github.com/caxton-go/caxton/acl"
	"go.opentelemetry.io/otel/propagation"
)

// Carrier adapts a message's TraceContext field to OpenTelemetry's
// TextMapCarrier, so W3C trace context ("traceparent", "tracestate") rides
// with the message from agent to agent — across the wasm boundary too,
// since the guest ABI carries the field.
type Carrier struct{ M *acl.Message }

// Get returns the value for key.
func (c Carrier) Get(key string) string { return c.M.TraceContext[key] }

// Set stores key=value, creating the map on first use.
func (c Carrier) Set(key, value string) {
	if c.M.TraceContext == nil {
		c.M.TraceContext = make(map[string]string, 2)
	}
	c.M.TraceContext[key] = value
}

// Keys lists the keys present.
func (c Carrier) Keys() []string {
	keys := make([]string, 0, len(c.M.TraceContext))
	for k := range c.M.TraceContext {
		keys = append(keys, k)
	}
	return keys
}

var _ propagation.TextMapCarrier = Carrier{}

// Inject writes ctx's span context into m with the W3C trace-context
// propagator.
func Inject(ctx context.Context, m *acl.Message) {
	propagation.TraceContext{}.Inject(ctx, Carrier{m})
}

// Extract returns ctx carrying the remote span context found in m, if any.
func Extract(ctx context.Context, m *acl.Message) context.Context {
	if len(m.TraceContext) == 0 {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, Carrier{m})
}
