package mcpserver

import (
	"context"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/caxtontest"
)

// TestServerServeReleasesInboxesWhenDone drives the code path of ServeStdio
// on an in-memory transport: the server works while the session lasts and
// gives its inboxes back when it ends.
func TestServerServeReleasesInboxesWhenDone(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx, cancel := context.WithCancel(caxtontest.Context(t))
	defer cancel()
	st, ct := sdk.NewInMemoryTransports()
	served := make(chan error, 1)
	go func() { served <- faceServe(ctx, rt.Runtime, func(*faceConfig) sdk.Transport { return st }, nil) }()

	cs, err := sdk.NewClient(&sdk.Implementation{Name: "c", Version: "v0"}, nil).Connect(ctx, ct, nil)
	require.NoError(t, err)
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: ToolListAgents})
	require.NoError(t, err)
	assert.False(t, res.IsError)
	_, err = rt.NewInbox(DefaultInbox)
	require.Error(t, err, "the server holds its inbox while serving")

	require.NoError(t, cs.Close()) // the client hangs up: the session ends
	select {
	case <-served:
	case <-time.After(caxtontest.DefaultTimeout):
		t.Fatal("faceServe did not return after the client closed")
	}
	_, err = rt.NewInbox(DefaultInbox)
	assert.NoError(t, err, "released on return")
	_, err = rt.NewInbox(faceNegotiatorName(DefaultInbox))
	assert.NoError(t, err, "released on return")
}

func TestServerServeStopsWithItsContext(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx, cancel := context.WithCancel(caxtontest.Context(t))
	st, _ := sdk.NewInMemoryTransports()
	served := make(chan error, 1)
	go func() { served <- faceServe(ctx, rt.Runtime, func(*faceConfig) sdk.Transport { return st }, nil) }()
	cancel()
	select {
	case err := <-served:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(caxtontest.DefaultTimeout):
		t.Fatal("faceServe did not return after its context ended")
	}
	_, err := rt.NewInbox(DefaultInbox)
	assert.NoError(t, err)

	//lint:ignore SA1012 a nil context is refused, not a panic
	assert.Error(t, faceServe(nil, rt.Runtime, func(*faceConfig) sdk.Transport { return st }, nil))
	assert.Error(t, ServeStdio(context.Background(), nil))
}
