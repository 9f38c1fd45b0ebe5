package otelrt_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/otelrt"
	"github.com/caxton-go/caxton/telemetry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A nil *Telemetry is the "off" state: every method is a safe no-op.
func TestNilTelemetryDoesNothing(t *testing.T) {
	var tel *otelrt.Telemetry
	ctx := context.Background()
	m := acl.New(acl.Inform, "x")
	sp := tel.StartSend(ctx, m)
	assert.False(t, sp.Active())
	assert.Equal(t, ctx, sp.Context())
	sp.EndSend(m, nil)
	p := tel.StartProcess(ctx, m, "a", 0, 1)
	p.SetWasm(1, 10)
	p.EndProcess("a", acl.Inform, time.Now(), otelrt.Delivered, nil)
	tel.DeadLettered(ctx, "a", m, "x")
	tel.Fuel(ctx, "a", 5)
	require.NoError(t, tel.Observe(nil))
	require.NoError(t, tel.Close())
	assert.Nil(t, m.TraceContext)
}

func TestSpansRecordOutcomeAndErrors(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel, err := otelrt.New(otelrt.Config{Tracer: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))})
	require.NoError(t, err)
	m := acl.New(acl.Request, "b")
	m.Sender, m.ConversationID, m.Protocol = "a", "c1", "fipa-request"
	send := tel.StartSend(context.Background(), m)
	require.True(t, send.Active())
	m.ID = acl.NewID()
	send.EndSend(m, nil)
	proc := tel.StartProcess(context.Background(), m, "b", 2, 3)
	proc.EndProcess("b", m.Performative, time.Now(), otelrt.DeadLettered, assert.AnError)

	spans := rec.Ended()
	require.Len(t, spans, 2)
	assert.Equal(t, "send b", spans[0].Name())
	assert.Equal(t, "process b", spans[1].Name())
	assert.Equal(t, spans[0].SpanContext().SpanID(), spans[1].Parent().SpanID())
	attrs := map[string]string{}
	for _, kv := range spans[1].Attributes() {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	assert.Equal(t, map[string]string{
		"messaging.system": "caxton", "messaging.operation.type": "process", "messaging.operation.name": "process",
		"messaging.destination.name": "b", "caxton.instance": "2", "caxton.attempt": "3", "caxton.sender": "a",
		"caxton.performative": "request", "caxton.protocol": "fipa-request", "messaging.message.conversation_id": "c1",
		"messaging.message.id": m.ID.String(), "caxton.outcome": "dead_lettered", "error.type": "_OTHER",
	}, attrs)
	assert.Equal(t, "assert.AnError general error for testing", spans[1].Status().Description)
}

// A handler that waits seconds on an LLM or a tool lands in a bucket of
// its own, not in +Inf; the histogram's attributes are the semconv ones.
func TestDurationBucketsReachMinutes(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	tel, err := otelrt.New(otelrt.Config{Meter: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		ErrorType: func(error) string { return "timeout" }})
	require.NoError(t, err)
	m := acl.New(acl.Request, "b")
	for _, took := range []time.Duration{12 * time.Second, 45 * time.Second} {
		tel.StartProcess(context.Background(), m, "b", 1, 1).EndProcess("b", m.Performative, time.Now().Add(-took), otelrt.Retrying, context.DeadlineExceeded)
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	var h *metricdata.HistogramDataPoint[float64]
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, telemetry.ScopeVersion(), sm.Scope.Version)
		for _, mt := range sm.Metrics {
			if mt.Name == telemetry.MetricDuration {
				h = &mt.Data.(metricdata.Histogram[float64]).DataPoints[0]
			}
		}
	}
	require.NotNil(t, h)
	assert.GreaterOrEqual(t, h.Bounds[len(h.Bounds)-1], 10.0)
	assert.Zero(t, h.BucketCounts[len(h.BucketCounts)-1], "nothing in +Inf")
	assert.Equal(t, uint64(2), h.Count)
	for k, v := range map[attribute.Key]string{"messaging.system": "caxton", "messaging.operation.name": "process",
		"messaging.destination.name": "b", "caxton.performative": "request", "error.type": "timeout"} {
		got, ok := h.Attributes.Value(k)
		assert.True(t, ok, k)
		assert.Equal(t, v, got.AsString(), k)
	}
}
