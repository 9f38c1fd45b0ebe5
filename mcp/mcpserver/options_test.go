package mcpserver_test

import (
	"context"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/mcp/mcpserver"
)

func TestServerOptions(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	for _, tc := range []struct {
		name string
		opts []mcpserver.Option
		want string
	}{
		{"empty name", []mcpserver.Option{mcpserver.WithName("")}, "WithName"},
		{"empty version", []mcpserver.Option{mcpserver.WithVersion("")}, "WithVersion"},
		{"zero default timeout", []mcpserver.Option{mcpserver.WithTimeouts(0, time.Second)}, "WithTimeouts"},
		{"max below default", []mcpserver.Option{mcpserver.WithTimeouts(time.Second, time.Millisecond)}, "WithTimeouts"},
		{"bad inbox name", []mcpserver.Option{mcpserver.WithInbox("a b")}, "WithInbox"},
		{"topic inbox", []mcpserver.Option{mcpserver.WithInbox("topic:x")}, "WithInbox"},
		{"unknown tool", []mcpserver.Option{mcpserver.WithTools("rm_rf")}, `unknown tool "rm_rf"`},
		{"nil option", []mcpserver.Option{nil}, "nil Option"},
		{"zero message size", []mcpserver.Option{mcpserver.WithMaxMessageBytes(0)}, "WithMaxMessageBytes"},
		{"zero session timeout", []mcpserver.Option{mcpserver.WithSessionTimeout(0)}, "WithSessionTimeout"},
		{"zero sessions", []mcpserver.Option{mcpserver.WithMaxSessions(0)}, "WithMaxSessions"},
		{"origin without a scheme", []mcpserver.Option{mcpserver.WithAllowedOrigins("app.example.com")}, `"app.example.com" is not a web origin`},
		{"origin with a path", []mcpserver.Option{mcpserver.WithAllowedOrigins("https://app.example.com/mcp")}, "WithAllowedOrigins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mcpserver.New(rt.Runtime, tc.opts...)
			require.ErrorIs(t, err, mcpserver.ErrInvalidOption)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := mcpserver.New(nil)
	assert.Error(t, err)
	_, err = mcpserver.HTTPHandler(rt.Runtime, mcpserver.WithName(""))
	assert.ErrorIs(t, err, mcpserver.ErrInvalidOption)
}

func TestServerInboxNames(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	_, err := mcpserver.New(rt.Runtime)
	require.NoError(t, err)

	// A second server on the same runtime needs its own inbox.
	_, err = mcpserver.New(rt.Runtime)
	require.ErrorIs(t, err, caxton.ErrAgentExists)
	assert.Contains(t, err.Error(), "WithInbox")
	cs := srvConnect(t, rt.Runtime, mcpserver.WithInbox("ops"))
	rec := caxtontest.NewRecorder(t, rt.Runtime, "auditor")
	srvOK[map[string]any](t, srvCall(t, cs, "send_message", map[string]any{"performative": "inform", "receivers": []string{"auditor"}}))
	assert.Equal(t, acl.AgentID("ops"), rec.Await(t, nil).Sender)

	// The runtime's default inbox can be shared.
	host := srvConnect(t, rt.Runtime, mcpserver.WithInbox(rt.Inbox().Name()))
	srvOK[map[string]any](t, srvCall(t, host, "send_message", map[string]any{"performative": "inform", "receivers": []string{"auditor"}}))
	assert.Equal(t, rt.Inbox().Name(), rec.AwaitN(t, 2)[1].Sender)
}

func TestServerToolAllowlist(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	cs := srvConnect(t, rt.Runtime, mcpserver.WithTools(mcpserver.ToolListAgents, mcpserver.ToolDeadLetters))
	res, err := cs.ListTools(caxtontest.Context(t), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	assert.ElementsMatch(t, []string{"list_agents", "dead_letters"}, names)
	_, err = cs.CallTool(caxtontest.Context(t), &sdk.CallToolParams{Name: "send_message",
		Arguments: map[string]any{"performative": "inform", "receivers": []string{"x"}}})
	assert.Error(t, err, "an unregistered tool is a protocol error")

	// Without contract_net the server needs no negotiation inbox.
	_, err = rt.NewInbox("mcp/contract-net")
	assert.NoError(t, err)
}

func TestServerContextReleasesItsInboxes(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx, cancel := context.WithCancel(context.Background())
	cs := srvConnect(t, rt.Runtime, mcpserver.WithContext(ctx))
	_, err := rt.NewInbox("mcp")
	require.ErrorIs(t, err, caxton.ErrAgentExists)

	cancel()
	caxtontest.Eventually(t, func() bool {
		ib, err := rt.NewInbox("mcp")
		if err != nil {
			return false
		}
		require.NoError(t, ib.Close())
		return true
	}, "the server's inbox to be released")
	caxtontest.Eventually(t, func() bool {
		_, err := rt.NewInbox("mcp/contract-net")
		return err == nil
	}, "the server's negotiation inbox to be released")
	res := srvCall(t, cs, "list_agents", nil)
	assert.True(t, res.IsError)
	assert.Contains(t, srvText(res), "shut down")
}
