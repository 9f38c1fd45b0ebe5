package mcp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionStatus checks which answers the HTTP transport takes to mean
// "no such session" (a plain 404 for the go-sdk) and which it leaves alone.
func TestSessionStatus(t *testing.T) {
	for _, tc := range []struct {
		name       string
		session    string // the request's Mcp-Session-Id
		status     int
		body       string
		wantStatus int
		wantBody   string // "" : unchanged
	}{
		{"400 as text", "s1", 400, "Bad Request: No valid session ID provided", 404,
			"session not found (the server answered 400 Bad Request: Bad Request: No valid session ID provided)"},
		{"400 as a JSON-RPC error with a null id", "s1", 400,
			`{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}`, 404, ""},
		{"404 as a JSON-RPC error with a null id", "s1", 404,
			`{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}`, 404, "session not found"},
		{"400 about the request itself", "s1", 400,
			`{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"invalid params"}}`, 400, ""},
		{"400 without a session", "", 400, "Bad Request", 400, ""},
		{"500 is not about the session", "s1", 500, "oops", 500, ""},
		{"success", "s1", 200, `{"jsonrpc":"2.0","id":1,"result":{}}`, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer ts.Close()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			req, err := http.NewRequest(http.MethodPost, ts.URL, nil)
			require.NoError(t, err)
			if tc.session != "" {
				req.Header.Set(sessionHeader, tc.session)
			}
			resp, err := sessionStatus{tr}.RoundTrip(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			want := tc.wantBody
			if want == "" && tc.wantStatus == tc.status {
				want = tc.body
			}
			if want != "" {
				assert.Equal(t, want, string(body))
			}
		})
	}
}
