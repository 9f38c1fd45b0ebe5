package mcp_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/tool"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replaceable is an HTTP MCP endpoint whose server can be swapped for a
// new one, the way a restarted process forgets its sessions.
type replaceable struct {
	h       atomic.Pointer[http.Handler]
	servers []*sdk.Server
}

func (rp *replaceable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*rp.h.Load()).ServeHTTP(w, r)
}

// replace installs a fresh stateful server counting "count" calls in n.
func (rp *replaceable) replace(n *atomic.Int64) {
	srv := newTestServer(n, false)
	rp.servers = append(rp.servers, srv)
	var h http.Handler = sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, nil)
	rp.h.Store(&h)
}

// closeSessions ends the server side of every session, which a server
// that was replaced or shut down without its process ending keeps open.
func closeSessions(servers ...*sdk.Server) {
	for _, srv := range servers {
		for ss := range srv.Sessions() {
			_ = ss.Close()
		}
	}
}

func TestHTTPServer(t *testing.T) {
	noLeaks(t)
	var first, second atomic.Int64
	rp := &replaceable{}
	rp.replace(&first)
	defer func() { closeSessions(rp.servers...) }()
	ts := httptest.NewServer(rp)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	defer ts.Close()

	reg := mcp.NewRegistry()
	defer func() { require.NoError(t, reg.Close()) }()
	tr := mcp.HTTP(ts.URL)
	tr.Client = client
	require.NoError(t, reg.Connect(testContext(t), "web", tr))
	all := grant("web/*")

	res := call(t, reg, "web/echo", `{"text":"over http"}`, all)
	require.Equal(t, tool.StatusOK, res.Status, "%s", res.Content)
	assert.Equal(t, "over http", string(res.Content))
	assert.Equal(t, `{"sum":3}`, string(call(t, reg, "web/add", `{"a":1,"b":2}`, all).Content))
	assert.Equal(t, tool.StatusError, call(t, reg, "web/fail", `{}`, all).Status)
	res = call(t, reg, "web/sleep", `{}`, tool.Grant{Allow: []string{"web/*"}, Timeout: 50 * time.Millisecond})
	assert.Equal(t, tool.StatusTimeout, res.Status, "%s", res.Content)
	assert.Equal(t, "I", string(call(t, reg, "web/count", `{}`, all).Content))
	require.EqualValues(t, 1, first.Load())

	// The server restarts and forgets the session: the next call finds out
	// (its request was refused, never run), re-initialises, and is sent
	// again — once.
	rp.replace(&second)
	before := len(reg.Audit())
	res = call(t, reg, "web/count", `{}`, all)
	require.Equal(t, tool.StatusOK, res.Status, "%s", res.Content)
	assert.Equal(t, "I", string(res.Content), "the call ran once, on the new server")
	assert.EqualValues(t, 1, first.Load())
	assert.EqualValues(t, 1, second.Load())
	recs := reg.Audit()[before:]
	require.Len(t, recs, 1, "a transparent retry is one call")
	assert.Equal(t, tool.StatusOK, recs[0].Status)
	assert.Equal(t, "over http", string(call(t, reg, "web/echo", `{"text":"over http"}`, all).Content))
}

func TestHTTPServerDown(t *testing.T) {
	noLeaks(t)
	srv := newTestServer(nil, false)
	defer closeSessions(srv)
	ts := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, nil))
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	reg := mcp.NewRegistry()
	defer reg.Close()
	tr := mcp.HTTP(ts.URL)
	tr.Client = client
	require.NoError(t, reg.Connect(testContext(t), "web", tr))
	ts.Close()
	res := call(t, reg, "web/echo", `{"text":"x"}`, tool.Grant{Allow: []string{"*"}, Timeout: 5 * time.Second})
	assert.Equal(t, tool.StatusUnavailable, res.Status, "%s", res.Content)
	assert.Contains(t, string(res.Content), `MCP server "web"`)
}
