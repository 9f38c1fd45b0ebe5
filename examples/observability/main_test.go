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
	require.NoError(t, run(context.Background(), &buf, true))
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
			if a.Key == "messaging.destination.name" && strings.HasPrefix(s.Name, "process ") {
				agents[a.Value.Value.(string)] = true
			}
		}
	}
	assert.Equal(t, 1, names["customer books a room"])
	assert.Equal(t, 2, names["process concierge"], "twice: one retry")
	assert.Equal(t, 1, names["process pricing"])
	assert.Equal(t, 1, names["process broken"], "the broken agent's trap")
	assert.Equal(t, map[string]bool{"concierge": true, "pricing": true, "broken": true}, agents)
	for _, metric := range []string{"messaging.client.sent.messages", "messaging.client.consumed.messages", "messaging.process.duration", "caxton.messages.retried", "caxton.messages.dead_lettered", "caxton.sandbox.fuel.consumed"} {
		assert.Contains(t, out, `"Name":"`+metric+`"`)
	}
	assert.Contains(t, out, `msg="asking pricing" agent=concierge`)
	assert.Contains(t, out, "trace_id="+traceID)
}

// By default the demo prints the trace as a tree: each handling attempt
// under the send it handles, with agent, outcome and error.
func TestObservabilityDemoPrintsATraceTree(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	var buf bytes.Buffer
	require.NoError(t, run(context.Background(), &buf, false))
	out := buf.String()
	i := strings.Index(out, "\nspans:\n")
	require.GreaterOrEqual(t, i, 0, out)
	tree := strings.Split(strings.TrimSpace(out[i+len("\nspans:\n"):]), "\n")
	depth := func(substr string) int {
		for _, l := range tree {
			if strings.Contains(l, substr) {
				return strings.IndexFunc(l, func(r rune) bool { return !strings.ContainsRune("│├└─ ", r) })
			}
		}
		t.Fatalf("no line with %q in\n%s", substr, strings.Join(tree, "\n"))
		return 0
	}
	assert.Equal(t, 0, depth("customer books a room"))
	assert.Less(t, depth("customer books a room"), depth("send request → concierge"))
	assert.Less(t, depth("send request → concierge"), depth("[concierge] process request (attempt 1)"))
	assert.Equal(t, depth("[concierge] process request (attempt 1)"), depth("[concierge] process request (attempt 2)"))
	assert.Less(t, depth("[concierge] process request (attempt 2)"), depth("send request → pricing"), "concierge asks pricing while handling")
	assert.Less(t, depth("send request → pricing"), depth("[pricing] process request"))
	assert.Less(t, depth("send inform → broken"), depth("[broken] process inform"))
	assert.Regexp(t, `\[concierge\] process request \(attempt 1\)  \S+  retry  error: session cache cold`, out)
	assert.Regexp(t, `\[broken\] process inform \(attempt 1\)  \S+  dead_lettered  error: .*unreachable`, out)
	assert.Contains(t, out, "\nmetrics:\n")
	assert.Regexp(t, `caxton.messages.retried\s+concierge request\s+1`, out)
	assert.Regexp(t, `caxton.messages.dead_lettered\s+broken inform\s+1`, out)
	assert.NotContains(t, out, `{"Name"`, "no JSON unless asked")
}
