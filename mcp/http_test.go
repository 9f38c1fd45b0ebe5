package mcp_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
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

// httpProcess is the test binary serving streamable HTTP in a subprocess
// (see serveHTTPForTest): a server that can die and be started again.
type httpProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	addr  string
}

// startHTTPProcess starts the HTTP test server at addr ("" for any free
// port) and waits until it listens. The test's cleanup stops it.
func startHTTPProcess(t *testing.T, addr string) *httpProcess {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envTestServer+"="+serveHTTP, envTestAddr+"="+addr,
		"GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &httpProcess{cmd: cmd, stdin: stdin}
	t.Cleanup(p.stop)
	line, err := bufio.NewReader(stdout).ReadString('\n') // the server's first line: its URL
	require.NoError(t, err, "the HTTP test server did not start")
	p.url = strings.TrimSpace(line)
	u, err := url.Parse(p.url)
	require.NoError(t, err)
	p.addr = u.Host
	return p
}

// stop ends the server (closing its stdin) and reaps it; it is idempotent.
func (p *httpProcess) stop() {
	_ = p.stdin.Close()
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Wait()
	}
}

// crash kills the server as a crash would, and reaps it.
func (p *httpProcess) crash(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Kill())
	p.stop()
}

// TestHTTPServerProcessDiesAndRestarts is the field report's server: a
// real process with resumable streams that answers 400, not 404, for a
// session it does not know.
func TestHTTPServerProcessDiesAndRestarts(t *testing.T) {
	noLeaks(t)
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	first := startHTTPProcess(t, "")
	reg := mcp.NewRegistry()
	t.Cleanup(func() { _ = reg.Close() })
	tr := mcp.HTTP(first.url)
	tr.Client = client
	require.NoError(t, reg.Connect(testContext(t), "web", tr))
	all := tool.Grant{Allow: []string{"web/*"}, Timeout: bound}
	require.Equal(t, tool.StatusOK, call(t, reg, "web/echo", `{"text":"up"}`, all).Status)

	// The server dies during the call: the call is unavailable at once, not
	// when the grant's timeout (longer than the client's attempts to resume
	// the stream) runs out.
	res := call(t, reg, "web/die", `{}`, all)
	require.Equal(t, tool.StatusUnavailable, res.Status, "%s", res.Content)
	assert.Contains(t, string(res.Content), `MCP server "web"`)
	first.stop()

	// Started again at the same address, it knows no session: the next call
	// re-initialises.
	second := startHTTPProcess(t, first.addr)
	res = call(t, reg, "web/echo", `{"text":"again"}`, all)
	require.Equal(t, tool.StatusOK, res.Status, "%s", res.Content)

	// It restarts between calls: the next call's request is refused with
	// 400 (never run), so the call re-initialises and is sent again, once.
	second.crash(t)
	startHTTPProcess(t, first.addr)
	before := len(reg.Audit())
	res = call(t, reg, "web/count", `{}`, all)
	require.Equal(t, tool.StatusOK, res.Status, "%s", res.Content)
	assert.Len(t, reg.Audit()[before:], 1, "a transparent retry is one call")
}
