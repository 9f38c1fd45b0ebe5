package mcpserver_test

import (
	"net/http/httptest"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/mcp/mcpserver"
)

func TestServerOverStreamableHTTP(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	srvEcho(t, rt, "echo")
	rec := caxtontest.NewRecorder(t, rt.Runtime, "auditor")
	h, err := mcpserver.HTTPHandler(rt.Runtime, mcpserver.WithName("caxton-test"), mcpserver.WithVersion("v9"),
		mcpserver.WithHTTPOptions(&sdk.StreamableHTTPOptions{JSONResponse: true}))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	ctx := caxtontest.Context(t)
	// Two clients share the one server (and its inbox).
	var sessions []*sdk.ClientSession
	for range 2 {
		cs, err := sdk.NewClient(&sdk.Implementation{Name: "http-client", Version: "v0"}, nil).
			Connect(ctx, &sdk.StreamableClientTransport{Endpoint: srv.URL}, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = cs.Close() })
		sessions = append(sessions, cs)
	}
	cs := sessions[0]
	init := cs.InitializeResult()
	assert.Equal(t, "caxton-test", init.ServerInfo.Name)
	assert.Equal(t, "v9", init.ServerInfo.Version)
	assert.Contains(t, init.Instructions, "list_agents")

	tools, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, tools.Tools, 7)

	type listing struct {
		Agents []struct {
			Name string `json:"name"`
		} `json:"agents"`
	}
	got := srvOK[listing](t, srvCall(t, sessions[1], "list_agents", nil))
	assert.Len(t, got.Agents, 2)

	reply := srvOK[srvMessage](t, srvCall(t, cs, "request", map[string]any{"receivers": []string{"echo"}, "content": "over http"}))
	assert.Equal(t, "inform", reply.Performative)
	assert.Equal(t, "over http", reply.Content)

	srvOK[map[string]any](t, srvCall(t, sessions[1], "send_message", map[string]any{"performative": "inform", "receivers": []string{"auditor"}, "content": "hi"}))
	assert.Equal(t, "hi", string(rec.Await(t, acl.MatchPerformative(acl.Inform)).Content))

	res := srvCall(t, cs, "request", map[string]any{"receivers": []string{"ghost"}})
	assert.True(t, res.IsError)
	assert.Contains(t, srvText(res), "unknown agent")
}
