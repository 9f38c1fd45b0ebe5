package cluster

import (
	"context"
	"slices"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A conversation over three nodes, each with its own tracer provider, is
// one trace: the trace context travels in the signed message.
func TestOneTraceAcrossThreeNodes(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 0)
	rec := tracetest.NewSpanRecorder()
	tc.rtOpts = func(int) []caxton.Option {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		return []caxton.Option{caxton.WithTracerProvider(tp)}
	}
	for i := range 3 {
		tc.join(i)
	}
	ctx := testCtx(t)
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "echo-0", Handler: caxton.HandlerFunc(echo)}))
	require.NoError(t, tc.rts[2].Spawn(ctx, caxton.AgentSpec{Name: "relay",
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			r, err := mc.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo-0"}, Content: mc.Message().Content})
			if err != nil {
				return err
			}
			return mc.Reply(ctx, acl.Inform, r.Content)
		})}))
	_, err := tc.rts[1].Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"relay"}, Content: []byte("x")})
	require.NoError(t, err)

	var handled []string
	traces := map[string]bool{}
	eventually(t, func() bool {
		handled, traces = nil, map[string]bool{}
		for _, s := range rec.Ended() {
			traces[s.SpanContext().TraceID().String()] = true
			for _, a := range s.Attributes() {
				if a.Key == telemetry.KeyAgent || a.Key == telemetry.KeyDestination {
					handled = append(handled, a.Value.AsString())
				}
			}
		}
		return slices.Contains(handled, "relay") && slices.Contains(handled, "echo-0")
	}, "spans of relay (n2) and echo-0 (n0)")
	assert.Len(t, traces, 1, "one trace for the conversation started on n1")
}
