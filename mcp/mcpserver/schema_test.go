package mcpserver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/caxtontest"
)

// TestServerListArgumentsArePlainArrays: a list argument's schema is
// {"type":"array"} (an optional one defaults to []), not
// ["null","array"], with which clients that build arguments from the
// schema (the inspector CLI) cannot pass a list at all.
func TestServerListArgumentsArePlainArrays(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	cs := srvConnect(t, rt.Runtime)
	res, err := cs.ListTools(caxtontest.Context(t), nil)
	require.NoError(t, err)
	lists := map[string]bool{}
	for _, tl := range res.Tools {
		for name, p := range srvSchema(t, tl.InputSchema)["properties"].(map[string]any) {
			prop := p.(map[string]any)
			if _, many := prop["type"].([]any); many {
				t.Errorf("%s.%s: type %v; want a single type", tl.Name, name, prop["type"])
			}
			if prop["type"] == "array" {
				lists[tl.Name+"."+name] = true
			}
		}
	}
	assert.Equal(t, map[string]bool{"send_message.receivers": true, "request.receivers": true,
		"contract_net.participants": true, "replay_dead_letters.ids": true}, lists)

	byName := map[string]map[string]any{}
	for _, tl := range res.Tools {
		byName[tl.Name] = srvSchema(t, tl.InputSchema)["properties"].(map[string]any)
	}
	participants := byName["contract_net"]["participants"].(map[string]any)
	assert.Equal(t, []any{}, participants["default"], "an optional list defaults to []")
	assert.Equal(t, map[string]any{"type": "string"}, participants["items"])
	_, hasDefault := byName["send_message"]["receivers"].(map[string]any)["default"]
	assert.False(t, hasDefault, "a required list has no default")
}

// TestServerNamesTheBadArgument: an argument of the wrong type — null
// included, which is what some clients send for a number that is not
// numeric — is a tool error that names the argument and says what it
// should be.
func TestServerNamesTheBadArgument(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	srvEcho(t, rt, "echo")
	cs := srvConnect(t, rt.Runtime)
	for _, tc := range []struct {
		name string
		tool string
		args map[string]any
		want []string
	}{
		{"null integer", "receive_messages", map[string]any{"max": nil}, []string{`invalid argument "max"`, "expected an integer", "got null"}},
		{"string integer", "receive_messages", map[string]any{"wait_ms": "ten"}, []string{`invalid argument "wait_ms"`, "expected an integer", `got the string "ten"`}},
		{"fractional integer", "request", map[string]any{"receivers": []string{"echo"}, "timeout_ms": 1.5}, []string{`invalid argument "timeout_ms"`, "expected an integer", "got the number 1.5"}},
		{"null list", "send_message", map[string]any{"performative": "inform", "receivers": nil}, []string{`invalid argument "receivers"`, "expected a list", "got null"}},
		{"list of numbers", "send_message", map[string]any{"performative": "inform", "receivers": []any{"echo", 7}}, []string{`invalid argument "receivers[1]"`, "expected a string", "got the number 7"}},
		{"optional list null", "contract_net", map[string]any{"task": "t", "participants": nil}, []string{`invalid argument "participants"`, "expected a list"}},
		{"boolean string", "list_agents", map[string]any{"topic": true}, []string{`invalid argument "topic"`, "expected a string", "got the boolean true"}},
		{"not an enumerated value", "contract_net", map[string]any{"task": "t", "participants": []string{"echo"}, "selector": "best"}, []string{`invalid argument "selector"`, "lowest_cost"}},
		{"unknown argument", "dead_letters", map[string]any{"receiver": "echo", "sort": "asc"}, []string{`invalid argument "sort"`, "no such argument", "limit, receiver"}},
		{"missing", "replay_dead_letters", map[string]any{}, []string{`invalid argument "ids"`, "required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := srvCall(t, cs, tc.tool, tc.args)
			require.True(t, res.IsError, "want a tool error, got %s", srvText(res))
			text := srvText(res)
			for _, w := range tc.want {
				assert.Contains(t, text, w)
			}
			assert.NotContains(t, text, "reflect.Value")
		})
	}
	// Lists pass as lists, and an optional one may be left out.
	srvOK[map[string]any](t, srvCall(t, cs, "send_message", map[string]any{"performative": "inform", "receivers": []string{"echo"}}))
	srvOK[map[string]any](t, srvCall(t, cs, "list_agents", nil))
}
