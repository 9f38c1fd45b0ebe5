package mcp_test

import (
	"encoding/json"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/mcp/mcpserver"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A tool call to an MCP server continues the calling agent's trace: the
// registry puts W3C trace context and baggage in params._meta, and
// Caxton's own server face (here, another runtime's) takes them up, so
// the message it sends is in the caller's trace and carries its baggage.
func TestToolCallCarriesTheTraceToTheServer(t *testing.T) {
	remote := caxtontest.NewRuntime(t, caxton.WithTracerProvider(sdktrace.NewTracerProvider()))
	auditor := caxtontest.NewRecorder(t, remote.Runtime, "auditor")
	srv, err := mcpserver.New(remote.Runtime)
	require.NoError(t, err)
	m := newMemServer(t, srv)
	spans := tracetest.NewSpanRecorder()
	reg := mcp.NewRegistry(mcp.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))))
	t.Cleanup(func() { require.NoError(t, reg.Close()) })
	ctx := testContext(t)
	require.NoError(t, reg.Connect(ctx, "remote", m.transport()))

	ctx, span := sdktrace.NewTracerProvider().Tracer("test").Start(ctx, "agent handling")
	member, err := baggage.NewMember("tenant", "acme")
	require.NoError(t, err)
	bag, err := baggage.New(member)
	require.NoError(t, err)
	ctx = baggage.ContextWithBaggage(ctx, bag)
	args, err := json.Marshal(map[string]any{"performative": "inform", "receivers": []string{"auditor"}})
	require.NoError(t, err)
	res := reg.CallTool(ctx, tool.Call{Agent: "clerk", Tool: "remote/send_message", Arguments: args,
		Grant: tool.Grant{Allow: []string{"remote/*"}}})
	span.End()
	require.Equal(t, tool.StatusOK, res.Status, string(res.Content))

	got := auditor.Await(t, acl.MatchPerformative(acl.Inform))
	traceparent := got.TraceContext["traceparent"]
	require.NotEmpty(t, traceparent, "the face's send carries a trace")
	assert.Contains(t, traceparent, span.SpanContext().TraceID().String(), "the caller's trace")
	assert.Contains(t, got.TraceContext["baggage"], "tenant=acme")

	ended := spans.Ended()
	require.Len(t, ended, 1)
	assert.Equal(t, "tools/call remote/send_message", ended[0].Name())
	assert.Equal(t, span.SpanContext().TraceID(), ended[0].SpanContext().TraceID())
}
