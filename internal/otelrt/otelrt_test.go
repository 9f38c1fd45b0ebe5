package otelrt_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/otelrt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	tel, err := otelrt.New(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)), nil)
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
	assert.Equal(t, "send request", spans[0].Name())
	assert.Equal(t, "process request", spans[1].Name())
	assert.Equal(t, spans[0].SpanContext().SpanID(), spans[1].Parent().SpanID())
	attrs := map[string]string{}
	for _, kv := range spans[1].Attributes() {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	assert.Equal(t, map[string]string{
		"messaging.system": "caxton", "messaging.operation.type": "process", "caxton.agent": "b",
		"caxton.instance": "2", "caxton.attempt": "3", "caxton.sender": "a", "caxton.performative": "request",
		"caxton.protocol": "fipa-request", "caxton.conversation_id": "c1", "caxton.message_id": m.ID.String(),
		"caxton.outcome": "dead_lettered",
	}, attrs)
	assert.Equal(t, "assert.AnError general error for testing", spans[1].Status().Description)
}
