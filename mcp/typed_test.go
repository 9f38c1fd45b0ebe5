package mcp_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewToolDerivesTheSchemaAndRefusesWhatCannotBeArguments(t *testing.T) {
	type in struct {
		Text  string `json:"text"`
		Times int    `json:"times,omitempty"`
	}
	echo, err := mcp.NewTool("echo", "repeats text", func(_ context.Context, call tool.Call, in in) ([]string, error) {
		out := []string{string(call.Agent)}
		for range max(1, in.Times) {
			out = append(out, in.Text)
		}
		return out, nil
	})
	require.NoError(t, err)
	var schema map[string]any
	require.NoError(t, json.Unmarshal(echo.InputSchema, &schema))
	assert.Equal(t, "object", schema["type"])
	assert.Equal(t, []any{"text"}, schema["required"], "omitempty fields are optional")

	reg := mcp.NewRegistry()
	t.Cleanup(func() { require.NoError(t, reg.Close()) })
	require.NoError(t, reg.Add(echo))
	grant := tool.Grant{Allow: []string{"echo"}}
	res := reg.CallTool(context.Background(), tool.Call{Agent: "a", Tool: "echo", Arguments: []byte(`{"text":"hi","times":2}`), Grant: grant})
	require.Equal(t, tool.StatusOK, res.Status, string(res.Content))
	assert.JSONEq(t, `["a","hi","hi"]`, string(res.Content))
	res = reg.CallTool(context.Background(), tool.Call{Agent: "a", Tool: "echo", Arguments: []byte(`{}`), Grant: grant})
	assert.Equal(t, tool.StatusBadArguments, res.Status, "text is required")

	for name, build := range map[string]func() error{
		"not an object": func() error {
			_, err := mcp.NewTool("n", "", func(context.Context, tool.Call, int) (int, error) { return 0, nil })
			return err
		},
		"nil function": func() error {
			_, err := mcp.NewTool[in, int]("n", "", nil)
			return err
		},
		"no schema for a channel": func() error {
			_, err := mcp.NewTool("n", "", func(context.Context, tool.Call, struct{ C chan int }) (int, error) { return 0, nil })
			return err
		},
	} {
		err := build()
		require.ErrorIs(t, err, mcp.ErrInvalid, name)
		var de *mcp.DefinitionError
		require.ErrorAs(t, err, &de, name)
		assert.Equal(t, "n", de.Name, name)
	}
}
