package mcp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// HTTPTransport reaches an MCP server over the streamable HTTP transport.
// Like CommandTransport it does not cap message sizes by default (the
// go-sdk caps server-sent events at 16 MiB); MaxMessageBytes sets a cap.
//
// It does not open the standalone server-to-client event stream: the
// registry only calls tools, and the stream would hold an HTTP connection
// open for every session for nothing.
//
// A session is lost when the server restarts or dies, and the transport
// says so at once, so that the registry re-initialises instead of waiting:
//   - A call's response stream that breaks is not resumed. The go-sdk would
//     try to resume it for up to about 20 s (five attempts with backoff)
//     while the agent waits; a server that died has lost the session and
//     its answer anyway. The call is tool.StatusUnavailable at once (it
//     may have run) and the next call re-initialises.
//   - A request for a session the server does not know is refused with 404,
//     as the MCP spec says; many servers (Python SDK servers, TypeScript
//     servers built on its examples) answer 400 instead, often with a
//     JSON-RPC error whose id is null. Either answer to a request that
//     carried a session id, unless it is a JSON-RPC error about that very
//     request (it has the request's id), means the session is gone: the
//     request never ran, so the call re-initialises and is sent again, once.
type HTTPTransport struct {
	// URL is the server's MCP endpoint.
	URL string
	// Client makes the requests (nil: http.DefaultClient). Put
	// authentication in its Transport.
	Client *http.Client
	// MaxMessageBytes caps one incoming event (0: no cap).
	MaxMessageBytes int
}

// HTTP returns a transport to the streamable HTTP MCP endpoint at url.
func HTTP(url string) *HTTPTransport { return &HTTPTransport{URL: url} }

// Open returns a new streamable HTTP client transport.
func (t *HTTPTransport) Open() sdk.Transport {
	limit := t.MaxMessageBytes
	if limit <= 0 {
		limit = -1
	}
	client := http.DefaultClient
	if t.Client != nil {
		client = t.Client
	}
	c := *client // the caller's client is left alone
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = sessionStatus{base}
	return &sdk.StreamableClientTransport{Endpoint: t.URL, HTTPClient: &c,
		MaxEventSize: limit, DisableStandaloneSSE: true,
		MaxRetries: -1} // no stream resumption: see the type's doc
}

// sessionHeader is the streamable HTTP transport's session id header.
const sessionHeader = "Mcp-Session-Id"

// maxStatusBody bounds what sessionStatus reads of an error body.
const maxStatusBody = 64 << 10

// sessionStatus makes a server's "no such session" answer the one the
// go-sdk recognises. The go-sdk reports a lost session (sdk.ErrSessionMissing,
// which the registry answers by re-initialising) only for a 404 whose body
// is not a JSON-RPC error; servers in the field answer 400, or 404 with a
// JSON-RPC error body, and the go-sdk then reports an ordinary failure.
// This is a workaround at the seam for what the go-sdk (v1.8) does not
// handle.
type sessionStatus struct{ base http.RoundTripper }

// RoundTrip passes req on, and rewrites a 400 or 404 answer to a request
// that carried a session id, unless its body is a JSON-RPC error about that
// very request, into a plain 404.
func (t sessionStatus) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || req.Header.Get(sessionHeader) == "" ||
		(resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound) {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody))
	_ = resp.Body.Close()
	if rerr == nil && errorForRequest(body) {
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	msg := "session not found"
	if resp.StatusCode != http.StatusNotFound {
		msg += " (the server answered " + resp.Status + ": " + strings.TrimSpace(string(body)) + ")"
	}
	resp.StatusCode, resp.Status = http.StatusNotFound, "404 Not Found"
	resp.Header = resp.Header.Clone()
	resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp.Header.Del("Content-Length")
	resp.ContentLength = int64(len(msg))
	resp.Body = io.NopCloser(strings.NewReader(msg))
	return resp, nil
}

// errorForRequest reports whether body is a JSON-RPC error response with
// an id: an answer about one request (bad parameters, an unknown method),
// not about the session.
func errorForRequest(body []byte) bool {
	var m struct {
		ID    json.RawMessage `json:"id"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	id := bytes.TrimSpace(m.ID)
	return len(m.Error) > 0 && len(id) > 0 && !bytes.Equal(id, []byte("null"))
}
