package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/mcp/mcpserver"
)

// rawHTTP is an MCP client written out by hand, so a test controls every
// header, as the clients in the field report did.
type rawHTTP struct {
	t      *testing.T
	url    string
	client *http.Client
	header http.Header // sent with every request
	id     int
}

func newRawHTTP(t *testing.T, h http.Handler) *rawHTTP {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	return &rawHTTP{t: t, url: srv.URL, client: client, header: http.Header{}}
}

// rawResponse is an HTTP answer: its status, body, session header and the
// JSON-RPC message in it, if any.
type rawResponse struct {
	status  int
	body    string
	session string
	header  http.Header
	msg     map[string]any
}

// do sends one JSON-RPC message with the given extra headers ("k", "v",
// ...).
func (c *rawHTTP) do(method, body string, kv ...string) rawResponse {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(caxtontest.Context(c.t), method, c.url, rd)
	require.NoError(c.t, err)
	req.Header = c.header.Clone()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := c.client.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	out := rawResponse{status: resp.StatusCode, body: string(b), session: resp.Header.Get("Mcp-Session-Id"), header: resp.Header}
	data := b
	if i := bytes.Index(b, []byte("data: ")); i >= 0 { // an event stream: its first message
		data, _, _ = bytes.Cut(b[i+len("data: "):], []byte("\n"))
	}
	_ = json.Unmarshal(data, &out.msg)
	return out
}

// call sends a request with a fresh id.
func (c *rawHTTP) call(method, params string, kv ...string) rawResponse {
	c.t.Helper()
	c.id++
	return c.do(http.MethodPost, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, c.id, method, params), kv...)
}

// initialize opens a session proposing version and returns the answer.
func (c *rawHTTP) initialize(version string, kv ...string) rawResponse {
	c.t.Helper()
	return c.call("initialize", fmt.Sprintf(`{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"raw","version":"0"}}`, version), kv...)
}

// open initialises a session as a well-behaved client does and returns
// its id.
func (c *rawHTTP) open(kv ...string) string {
	c.t.Helper()
	res := c.initialize("2025-06-18", kv...)
	require.Equal(c.t, http.StatusOK, res.status, res.body)
	require.NotEmpty(c.t, res.session)
	kv = append(kv, "Mcp-Session-Id", res.session, "Mcp-Protocol-Version", "2025-06-18")
	require.Equal(c.t, http.StatusAccepted, c.do(http.MethodPost, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, kv...).status)
	return res.session
}

// result checks that res answered with a result and returns it.
func result(t *testing.T, res rawResponse) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.msg, "result", res.body)
	return res.msg["result"].(map[string]any)
}

// TestHTTPNegotiatesANewerProtocolVersion: a client that proposes a
// version newer than the server's gets one the server supports, and its
// calls work whether they carry that version (as the spec says) or the one
// it proposed (as mark3labs/mcp-go does, which the SDK refused).
func TestHTTPNegotiatesANewerProtocolVersion(t *testing.T) {
	for _, tc := range []struct {
		name     string
		proposed string
		header   string // "negotiated", or a literal version
	}{
		{"the spec's client", "2099-01-01", "negotiated"},
		{"a client that repeats its proposal", "2099-01-01", "2099-01-01"},
		{"mcp-go proposing 2026-07-28", "2026-07-28", "2026-07-28"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := caxtontest.NewRuntime(t)
			srvEcho(t, rt, "echo")
			h, err := mcpserver.HTTPHandler(rt.Runtime)
			require.NoError(t, err)
			c := newRawHTTP(t, h)

			init := c.initialize(tc.proposed)
			negotiated, _ := result(t, init)["protocolVersion"].(string)
			assert.Contains(t, sdk.SupportedProtocolVersions(), negotiated)
			assert.NotEqual(t, tc.proposed, negotiated, "the server answers with a version it supports")
			version := tc.header
			if version == "negotiated" {
				version = negotiated
			}
			hdr := []string{"Mcp-Session-Id", init.session, "Mcp-Protocol-Version", version}

			res := c.do(http.MethodPost, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, hdr...)
			require.Equal(t, http.StatusAccepted, res.status, res.body)
			tools := result(t, c.call("tools/list", `{}`, hdr...))["tools"].([]any)
			assert.Len(t, tools, 7)
			out := result(t, c.call("tools/call", `{"name":"request","arguments":{"receivers":["echo"],"content":"hi"}}`, hdr...))
			assert.NotEqual(t, true, out["isError"], "%v", out)
			assert.Equal(t, "hi", out["structuredContent"].(map[string]any)["content"])

			// A version that is neither supported nor the one proposed is
			// still refused, as the spec says.
			res = c.call("tools/list", `{}`, "Mcp-Session-Id", init.session, "Mcp-Protocol-Version", "2001-01-01")
			assert.Equal(t, http.StatusBadRequest, res.status, res.body)
		})
	}
}

// TestHTTPCapsSessions: a new session beyond WithMaxSessions is refused
// with 503 and a message; ending one makes room.
func TestHTTPCapsSessions(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	h, err := mcpserver.HTTPHandler(rt.Runtime, mcpserver.WithMaxSessions(2), mcpserver.WithSessionTimeout(time.Hour))
	require.NoError(t, err)
	c := newRawHTTP(t, h)
	first := c.open()
	c.open()

	res := c.initialize("2025-06-18")
	assert.Equal(t, http.StatusServiceUnavailable, res.status)
	assert.Contains(t, res.body, "maximum of 2 MCP sessions")

	// Live sessions still work.
	result(t, c.call("tools/list", `{}`, "Mcp-Session-Id", first, "Mcp-Protocol-Version", "2025-06-18"))
	require.Equal(t, http.StatusNoContent, c.do(http.MethodDelete, "", "Mcp-Session-Id", first, "Mcp-Protocol-Version", "2025-06-18").status)
	c.open()
}

// TestHTTPReapsIdleSessions: a session nobody uses is closed after
// WithSessionTimeout, which frees its place under the cap; its client gets
// 404, the spec's signal to initialise again.
func TestHTTPReapsIdleSessions(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	h, err := mcpserver.HTTPHandler(rt.Runtime, mcpserver.WithMaxSessions(1), mcpserver.WithSessionTimeout(50*time.Millisecond))
	require.NoError(t, err)
	c := newRawHTTP(t, h)
	idle := c.open()

	// Opening a session does not touch the idle one's timer: it succeeds
	// once the idle one has been closed.
	caxtontest.Eventually(t, func() bool {
		res := c.initialize("2025-06-18")
		if res.status == http.StatusServiceUnavailable {
			return false
		}
		require.Equal(t, http.StatusOK, res.status, res.body)
		return true
	}, "the idle session to be closed")
	res := c.call("tools/list", `{}`, "Mcp-Session-Id", idle, "Mcp-Protocol-Version", "2025-06-18")
	assert.Equal(t, http.StatusNotFound, res.status, res.body)
}

// TestHTTPChecksOrigin: a browser request from an origin that is not
// allowed is refused (DNS rebinding); one without an Origin, from a
// client that is not a browser, is served.
func TestHTTPChecksOrigin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed []string
		origin  string
		ok      bool
	}{
		{"no Origin: not a browser", nil, "", true},
		{"by default no browser origin", nil, "http://localhost:6274", false},
		{"a rebinding page", []string{"https://app.example.com"}, "http://attacker.example:8080", false},
		{"an opaque origin", []string{"https://app.example.com"}, "null", false},
		{"an allowed origin", []string{"https://app.example.com"}, "https://app.example.com", true},
		{"origins compare without case", []string{"https://App.Example.com"}, "HTTPS://app.example.COM", true},
		{"another port is another origin", []string{"https://app.example.com"}, "https://app.example.com:8443", false},
		{"any origin", []string{"*"}, "http://anything.example", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := caxtontest.NewRuntime(t)
			h, err := mcpserver.HTTPHandler(rt.Runtime, mcpserver.WithAllowedOrigins(tc.allowed...))
			require.NoError(t, err)
			c := newRawHTTP(t, h)
			var kv []string
			if tc.origin != "" {
				kv = []string{"Origin", tc.origin}
			}
			res := c.initialize("2025-06-18", kv...)
			if tc.ok {
				assert.Equal(t, http.StatusOK, res.status, res.body)
				return
			}
			assert.Equal(t, http.StatusForbidden, res.status)
			assert.Contains(t, res.body, fmt.Sprintf("origin %q may not use this MCP server", tc.origin))
		})
	}
}

// logRecords collects the runtime's log records.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Clone())
	return nil
}
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

// toolCalls returns the attributes of each "mcpserver: tool call" record.
func (l *logRecords) toolCalls() []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.recs {
		if r.Message != "mcpserver: tool call" {
			continue
		}
		m := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	return out
}

// TestHTTPAuthenticator: the authenticator refuses callers it cannot
// identify (401) or that may not come in (403), a session stays with the
// caller that opened it, and every tool call is logged with its caller.
// A server using MCP's OAuth flow points clients at its protected resource
// metadata in the 401's challenge.
func TestHTTPAuthChallenge(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	const challenge = `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"`
	h, err := mcpserver.HTTPHandler(rt.Runtime,
		mcpserver.WithAuthenticator(func(*http.Request) (mcpserver.Identity, error) {
			return mcpserver.Identity{}, errors.New("no token")
		}),
		mcpserver.WithAuthChallenge(challenge))
	require.NoError(t, err)
	res := newRawHTTP(t, h).initialize("2025-06-18")
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, challenge, res.header.Get("WWW-Authenticate"))
}

func TestHTTPAuthenticator(t *testing.T) {
	logs := &logRecords{}
	rt := caxtontest.NewRuntime(t, caxton.WithLogger(slog.New(logs)))
	srvEcho(t, rt, "echo")
	tokens := map[string]mcpserver.Identity{
		"alice-token": {Subject: "alice", Attributes: map[string]any{"role": "operator"}},
		"bob-token":   {Subject: "bob"},
		"anon-token":  {},
	}
	auth := func(r *http.Request) (mcpserver.Identity, error) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !ok:
			return mcpserver.Identity{}, errors.New("a bearer token is required")
		case tok == "mallory-token":
			return mcpserver.Identity{}, fmt.Errorf("mallory is banned: %w", mcpserver.ErrForbidden)
		}
		id, known := tokens[tok]
		if !known {
			return mcpserver.Identity{}, errors.New("unknown token")
		}
		return id, nil
	}
	h, err := mcpserver.HTTPHandler(rt.Runtime, mcpserver.WithAuthenticator(auth))
	require.NoError(t, err)
	c := newRawHTTP(t, h)

	for _, tc := range []struct {
		name   string
		token  string
		status int
		want   string
	}{
		{"no credentials", "", http.StatusUnauthorized, "a bearer token is required"},
		{"unknown credentials", "Bearer forged", http.StatusUnauthorized, "unknown token"},
		{"refused caller", "Bearer mallory-token", http.StatusForbidden, "mallory is banned"},
		{"an identity without a subject", "Bearer anon-token", http.StatusInternalServerError, "without a Subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.initialize("2025-06-18", "Authorization", tc.token)
			assert.Equal(t, tc.status, res.status)
			assert.Contains(t, res.body, tc.want)
			if tc.status == http.StatusUnauthorized { // RFC 9110: a 401 says how to authenticate
				assert.Equal(t, `Bearer realm="caxton"`, res.header.Get("WWW-Authenticate"))
			}
		})
	}

	alice := []string{"Authorization", "Bearer alice-token"}
	session := c.open(alice...)
	inSession := append([]string{"Mcp-Session-Id", session, "Mcp-Protocol-Version", "2025-06-18"}, alice...)
	out := result(t, c.call("tools/call", `{"name":"request","arguments":{"receivers":["echo"],"content":"hi"}}`, inSession...))
	assert.NotEqual(t, true, out["isError"], "%v", out)

	// Bob may not use Alice's session, nor end it.
	bobInAlices := []string{"Mcp-Session-Id", session, "Mcp-Protocol-Version", "2025-06-18", "Authorization", "Bearer bob-token"}
	res := c.call("tools/call", `{"name":"list_agents","arguments":{}}`, bobInAlices...)
	assert.Equal(t, http.StatusForbidden, res.status)
	assert.Contains(t, res.body, "opened by another caller")
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodDelete, "", bobInAlices...).status)
	// Nor may anyone without credentials.
	res = c.call("tools/list", `{}`, "Mcp-Session-Id", session, "Mcp-Protocol-Version", "2025-06-18")
	assert.Equal(t, http.StatusUnauthorized, res.status)

	// The tool call is logged with its caller, in the session's handling.
	calls := logs.toolCalls()
	require.Len(t, calls, 1)
	assert.Equal(t, "alice", calls[0]["identity"])
	assert.Equal(t, "request", calls[0]["tool"])
	assert.Equal(t, session, calls[0]["session"])
	assert.Equal(t, "ok", calls[0]["outcome"])
}
