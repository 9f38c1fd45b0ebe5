package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObservabilityDemoProducesOneTrace(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "") // stdout, whatever the environment says
	var buf bytes.Buffer
	require.NoError(t, run(context.Background(), &buf))
	out := buf.String()
	assert.Contains(t, out, "telemetry goes to stdout")
	assert.Contains(t, out, "reply: confirmed, quote: 3 nights")
	assert.Contains(t, out, "reply: confirmed, quote: 3 nights at 120 EUR = 360 EUR")
	assert.Contains(t, out, `msg="quoting 3 nights" agent=pricing`, "the wasm agent's log line")
	i := strings.Index(out, "trace id: ")
	require.GreaterOrEqual(t, i, 0)
	traceID := strings.TrimSpace(out[i+len("trace id: "):])

	type span struct {
		Name        string
		SpanContext struct{ TraceID, SpanID string }
		Parent      struct{ SpanID string }
		Attributes  []struct {
			Key   string
			Value struct{ Value any }
		}
	}
	names := map[string]int{}
	agents := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, `{"Name"`) {
			continue
		}
		var s span
		require.NoError(t, json.Unmarshal([]byte(line), &s), line)
		assert.Equal(t, traceID, s.SpanContext.TraceID, "span %q is in the customer's trace", s.Name)
		names[s.Name]++
		for _, a := range s.Attributes {
			if a.Key == "caxton.agent" {
				agents[a.Value.Value.(string)] = true
			}
		}
	}
	assert.Equal(t, 1, names["customer books a room"])
	assert.Equal(t, 3, names["process request"], "concierge twice (one retry), pricing once")
	assert.Equal(t, 1, names["process inform"], "the broken agent's trap")
	assert.Equal(t, map[string]bool{"concierge": true, "pricing": true, "broken": true}, agents)
	for _, metric := range []string{"caxton.messages.sent", "caxton.messages.retried", "caxton.messages.dead_lettered", "caxton.handler.duration", "caxton.sandbox.fuel.consumed"} {
		assert.Contains(t, out, `"Name":"`+metric+`"`)
	}
	assert.Contains(t, out, `msg="asking pricing" agent=concierge`)
	assert.Contains(t, out, "trace_id="+traceID)
}
