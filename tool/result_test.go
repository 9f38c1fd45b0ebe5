package tool_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/tool"
)

func TestResultErr(t *testing.T) {
	require.NoError(t, tool.Result{Content: []byte("42"), Tool: "answer"}.Err())

	err := tool.Result{Status: tool.StatusRateLimited, Content: []byte("retry in 1s"), Tool: "lookup"}.Err()
	require.Error(t, err)
	assert.Equal(t, `tool "lookup": rate limited: retry in 1s`, err.Error())
	var ce *tool.CallError
	require.ErrorAs(t, fmt.Errorf("planning: %w", err), &ce, "a wrapped CallError is found by errors.As")
	assert.Equal(t, tool.CallError{Tool: "lookup", Status: tool.StatusRateLimited, Reason: "retry in 1s"}, *ce)
	assert.False(t, errors.Is(err, tool.ErrInvalidGrant))
}

func TestToolboxFunc(t *testing.T) {
	var tb tool.Toolbox = tool.ToolboxFunc(func(_ context.Context, c tool.Call) tool.Result {
		return tool.Result{Content: []byte(string(c.Agent) + " " + c.Tool + " " + string(c.Arguments))}
	})
	r := tb.CallTool(context.Background(), tool.Call{Agent: "a1", Tool: "echo", Arguments: []byte(`{}`)})
	assert.Equal(t, tool.Result{Content: []byte("a1 echo {}")}, r)
}
