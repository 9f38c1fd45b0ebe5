package mcp_test

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
	"github.com/caxton-go/caxton/mcp"
)

func TestServerOptions(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	for _, tc := range []struct {
		name string
		opts []mcp.ServerOption
		want string
	}{
		{"empty name", []mcp.ServerOption{mcp.WithServerName("")}, "WithServerName"},
		{"empty version", []mcp.ServerOption{mcp.WithServerVersion("")}, "WithServerVersion"},
		{"zero default timeout", []mcp.ServerOption{mcp.WithServerTimeouts(0, time.Second)}, "WithServerTimeouts"},
		{"max below default", []mcp.ServerOption{mcp.WithServerTimeouts(time.Second, time.Millisecond)}, "WithServerTimeouts"},
		{"bad inbox name", []mcp.ServerOption{mcp.WithServerInbox("a b")}, "WithServerInbox"},
		{"topic inbox", []mcp.ServerOption{mcp.WithServerInbox("topic:x")}, "WithServerInbox"},
		{"unknown tool", []mcp.ServerOption{mcp.WithServerTools("rm_rf")}, `unknown tool "rm_rf"`},
		{"nil option", []mcp.ServerOption{nil}, "nil ServerOption"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mcp.NewServer(rt.Runtime, tc.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := mcp.NewServer(nil)
	assert.Error(t, err)
	_, err = mcp.HTTPHandler(rt.Runtime, mcp.WithServerName(""))
	assert.Error(t, err)
}

func TestServerInboxNames(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	_, err := mcp.NewServer(rt.Runtime)
	require.NoError(t, err)

	// A second server on the same runtime needs its own inbox.
	_, err = mcp.NewServer(rt.Runtime)
	require.ErrorIs(t, err, caxton.ErrAgentExists)
	assert.Contains(t, err.Error(), "WithServerInbox")
	cs := srvConnect(t, rt.Runtime, mcp.WithServerInbox("ops"))
	rec := caxtontest.NewRecorder(t, rt.Runtime, "auditor")
	srvOK[map[string]any](t, srvCall(t, cs, "send_message", map[string]any{"performative": "inform", "receivers": []string{"auditor"}}))
	assert.Equal(t, acl.AgentID("ops"), rec.Await(t, nil).Sender)

	// The runtime's default inbox can be shared.
	host := srvConnect(t, rt.Runtime, mcp.WithServerInbox(rt.Inbox().Name()))
	srvOK[map[string]any](t, srvCall(t, host, "send_message", map[string]any{"performative": "inform", "receivers": []string{"auditor"}}))
	assert.Equal(t, rt.Inbox().Name(), rec.AwaitN(t, 2)[1].Sender)
}

func TestServerToolAllowlist(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	cs := srvConnect(t, rt.Runtime, mcp.WithServerTools(mcp.ServerToolListAgents, mcp.ServerToolDeadLetters))
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
	cs := srvConnect(t, rt.Runtime, mcp.WithServerContext(ctx))
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
