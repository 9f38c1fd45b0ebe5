package mcp_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// clerk calls the tool named by the request's content and replies with
// the result (inform) or the reason it failed (failure).
func clerk(ctx context.Context, mc *caxton.MessageContext) error {
	res := mc.CallTool(ctx, string(mc.Message().Content), map[string]string{"text": "from an agent"})
	if err := res.Err(); err != nil {
		return mc.Reply(ctx, acl.Failure, []byte(err.Error()))
	}
	return mc.Reply(ctx, acl.Inform, res.Content)
}

func TestRuntimeAgentCallsTools(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reg := hostRegistry(t, mcp.WithTracerProvider(tp))
	rt := caxtontest.NewRuntime(t, caxton.WithToolbox(reg), caxton.WithTracerProvider(tp))
	rt.MustSpawn(caxton.AgentSpec{Name: "clerk", Handler: caxton.HandlerFunc(clerk), Tools: tool.Grant{Allow: []string{"upper"}}})

	ask := func(name string) *acl.Message {
		return rt.MustRequest(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"clerk"}, Content: []byte(name)})
	}
	reply := ask("upper")
	require.Equal(t, acl.Inform, reply.Performative, "%s", reply.Content)
	assert.Equal(t, "FROM AN AGENT", string(reply.Content))

	reply = ask("fail")
	require.Equal(t, acl.Failure, reply.Performative)
	assert.Contains(t, string(reply.Content), `tool "fail": denied: agent "clerk" may not call tool "fail"`)

	recs := reg.Audit()
	require.Len(t, recs, 2)
	assert.Equal(t, acl.AgentID("clerk"), recs[0].Agent)
	assert.Equal(t, tool.StatusOK, recs[0].Status)
	assert.Equal(t, tool.StatusDenied, recs[1].Status)

	// Each call is a span inside the span of the message being handled,
	// which ends (a moment) after the reply went out.
	var byID map[string]sdktrace.ReadOnlySpan
	var tools []sdktrace.ReadOnlySpan
	caxtontest.Eventually(t, func() bool {
		byID, tools = map[string]sdktrace.ReadOnlySpan{}, nil
		for _, s := range spans.Ended() {
			byID[s.SpanContext().SpanID().String()] = s
			if s.InstrumentationScope().Name == mcp.ScopeName {
				tools = append(tools, s)
			}
		}
		for _, s := range tools {
			if byID[s.Parent().SpanID().String()] == nil {
				return false
			}
		}
		return len(tools) == 2
	}, "the tool spans and their parents to end")
	for i, want := range []struct {
		name, status string
		code         codes.Code
	}{{"tools/call upper", "ok", codes.Unset}, {"tools/call fail", "denied", codes.Error}} {
		s := tools[i]
		assert.Equal(t, want.name, s.Name())
		parent, ok := byID[s.Parent().SpanID().String()]
		require.True(t, ok, "the tool span's parent was recorded")
		assert.Equal(t, "process clerk", parent.Name())
		assert.Equal(t, want.code, s.Status().Code)
		attrs := attribute.NewSet(s.Attributes()...)
		for k, v := range map[attribute.Key]string{"caxton.agent": "clerk", mcp.KeyTool: want.name[len("tools/call "):], mcp.KeyMethodName: "tools/call", mcp.KeyOperation: "execute_tool", mcp.KeyToolStatus: want.status} {
			got, ok := attrs.Value(k)
			assert.True(t, ok, "attribute %s", k)
			assert.Equal(t, v, got.AsString(), "attribute %s", k)
		}
		_, ok = attrs.Value(mcp.KeyToolDuration)
		assert.True(t, ok, "attribute %s", mcp.KeyToolDuration)
	}
}
