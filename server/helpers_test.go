package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/server"
	"github.com/stretchr/testify/require"
)

const (
	adminToken    = "admin-token-0123456789"
	operatorToken = "operator-token-0123456789"
	viewerToken   = "viewer-token-0123456789"
	scopedToken   = "scoped-token-0123456789" // an operator of "echo" only
)

func testTokens(t *testing.T) server.Authenticator {
	t.Helper()
	auth, err := server.StaticTokens(
		server.Token{Token: adminToken, Subject: "alice", Role: server.RoleAdmin},
		server.Token{Token: operatorToken, Subject: "olga", Role: server.RoleOperator},
		server.Token{Token: viewerToken, Subject: "victor", Role: server.RoleViewer},
		server.Token{Token: scopedToken, Subject: "sam", Role: server.RoleOperator, Agents: []acl.AgentID{"echo"}},
	)
	require.NoError(t, err)
	return auth
}

type fixture struct {
	t   *testing.T
	rt  *caxton.Runtime
	srv *server.Server
	url string
}

// newFixture serves a fresh runtime's API on an httptest server with the
// test tokens.
func newFixture(t *testing.T, rtOpts []caxton.Option, opts ...server.Option) *fixture {
	t.Helper()
	rt, err := caxton.New(rtOpts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(t.Context()) })
	srv, err := server.New(rt, append([]server.Option{server.WithAuthenticator(testTokens(t))}, opts...)...)
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &fixture{t: t, rt: rt, srv: srv, url: hs.URL}
}

// do sends a request with a JSON body (or raw bytes) and returns the
// status and body.
func (f *fixture) do(method, path, token string, body any) (int, []byte) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		require.NoError(f.t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(f.t.Context(), method, f.url+path, rd)
	require.NoError(f.t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return resp.StatusCode, out
}

// ok requires status want and decodes the body into v (if not nil).
func (f *fixture) ok(want int, v any, method, path, token string, body any) {
	f.t.Helper()
	status, out := f.do(method, path, token, body)
	require.Equalf(f.t, want, status, "%s %s: %s", method, path, out)
	if v != nil {
		require.NoError(f.t, json.Unmarshal(out, v), "%s", out)
	}
}

// problem requires an RFC 9457 answer with status want and returns it.
func (f *fixture) problem(want int, method, path, token string, body any) server.Problem {
	f.t.Helper()
	status, out := f.do(method, path, token, body)
	require.Equalf(f.t, want, status, "%s %s: %s", method, path, out)
	var p server.Problem
	require.NoError(f.t, json.Unmarshal(out, &p), "%s", out)
	require.Equal(f.t, want, p.Status)
	require.NotEmpty(f.t, p.Type)
	require.NotEmpty(f.t, p.Title)
	return p
}

func readGuest(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

const (
	echoWasm = "../guest/c/agents/echo.wasm"
	quoteV1  = "../examples/upgrade/guests/quote-v1.wasm"
	quoteV2  = "../examples/upgrade/guests/quote-v2.wasm"
	quoteV3  = "../examples/upgrade/guests/quote-v3.wasm"
)

// deploy deploys a checked-in guest as name (admin).
func (f *fixture) deploy(name, module string, extra map[string]any) server.AgentStatus {
	f.t.Helper()
	body := map[string]any{"name": name, "module_base64": readGuest(f.t, module)}
	for k, v := range extra {
		body[k] = v
	}
	var st server.AgentStatus
	f.ok(http.StatusCreated, &st, "POST", "/v1/agents", adminToken, body)
	return st
}

// ask sends a request to agent and returns the reply's content.
func (f *fixture) ask(agent, content string) string {
	f.t.Helper()
	var reply struct {
		Performative string `json:"performative"`
		Content      string `json:"content"`
	}
	f.ok(http.StatusOK, &reply, "POST", "/v1/requests?timeout=20s", operatorToken,
		map[string]any{"performative": "request", "receiver": agent, "content": content})
	require.Equal(f.t, "inform", reply.Performative)
	return reply.Content
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
