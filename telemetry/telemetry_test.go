package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func TestCarrierRoundTripsTraceContextThroughAMessage(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	ctx, sp := tp.Tracer("t").Start(context.Background(), "parent")
	defer sp.End()
	m := acl.New(acl.Inform, "x")
	telemetry.Inject(ctx, m)
	require.Contains(t, m.TraceContext, "traceparent")
	assert.ElementsMatch(t, []string{"traceparent"}, telemetry.Carrier{M: m}.Keys())

	got := trace.SpanContextFromContext(telemetry.Extract(context.Background(), m))
	assert.Equal(t, sp.SpanContext().TraceID(), got.TraceID())
	assert.Equal(t, sp.SpanContext().SpanID(), got.SpanID())
	assert.True(t, got.IsRemote())

	plain := acl.New(acl.Inform, "x")
	assert.Equal(t, context.Background(), telemetry.Extract(context.Background(), plain), "no trace context: ctx unchanged")
	telemetry.Inject(context.Background(), plain)
	assert.Nil(t, plain.TraceContext, "nothing to inject: no map is made")
}

func TestLogHandlerAddsTraceIDsOnlyWithASpan(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&buf, nil))).With("agent", "a")
	tp := sdktrace.NewTracerProvider()
	ctx, sp := tp.Tracer("t").Start(context.Background(), "work")
	l.InfoContext(ctx, "with span")
	sp.End()
	l.Info("without span")
	assert.Same(t, l.Handler(), telemetry.LogHandler(l.Handler()), "wrapping twice is a no-op")

	dec := json.NewDecoder(&buf)
	var with, without map[string]any
	require.NoError(t, dec.Decode(&with))
	require.NoError(t, dec.Decode(&without))
	assert.Equal(t, sp.SpanContext().TraceID().String(), with["trace_id"])
	assert.Equal(t, sp.SpanContext().SpanID().String(), with["span_id"])
	assert.Equal(t, "a", with["agent"])
	assert.NotContains(t, without, "trace_id")
}
