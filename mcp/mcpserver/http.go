package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/caxton-go/caxton"
)

// Defaults of the HTTP face.
const (
	// DefaultSessionTimeout is how long HTTPHandler keeps a session that
	// has had no request (see WithSessionTimeout).
	DefaultSessionTimeout = 30 * time.Minute
	// DefaultMaxSessions is how many sessions HTTPHandler holds at once
	// (see WithMaxSessions). A session costs about 12 KB at rest.
	DefaultMaxSessions = 1000
)

// The streamable HTTP transport's headers.
const (
	headerSessionID       = "Mcp-Session-Id"
	headerProtocolVersion = "Mcp-Protocol-Version"
)

// HTTPHandler returns an http.Handler that serves rt over MCP's streamable
// HTTP transport: one server (see New) shared by every session, so all
// clients send from the same inbox. Mount it where clients connect (for
// example at "/mcp").
//
// In front of the SDK's handler (which refuses a request to a localhost
// listener that carries a foreign Host header) it
//   - closes sessions idle for WithSessionTimeout (30 minutes) and refuses,
//     with 503, a new session beyond WithMaxSessions (1000);
//   - accepts, on a session's later requests, the protocol version the
//     client proposed at initialisation in the MCP-Protocol-Version header,
//     as the version negotiated then. The spec has the client send the
//     negotiated version; some clients (mark3labs/mcp-go proposing
//     2026-07-28) send their own again, and the SDK would refuse every call
//     as "unsupported protocol version" although initialisation succeeded.
//
// Its tools send messages as the server's inbox: put authentication in
// front of it before exposing it beyond the machine.
func HTTPHandler(rt *caxton.Runtime, opts ...Option) (http.Handler, error) {
	f, s, err := newFace(rt, opts)
	if err != nil {
		return nil, err
	}
	h := &httpFace{cfg: f.cfg, server: s, sessions: make(map[string]faceSession)}
	var so sdk.StreamableHTTPOptions
	if f.cfg.httpOpts != nil {
		so = *f.cfg.httpOpts
	}
	so.SessionTimeout = max(f.cfg.sessionTimeout, 0)
	h.stateless = so.Stateless
	s.AddReceivingMiddleware(h.recordSession)
	h.sdk = sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, &so)
	f.watch()
	return h, nil
}

// httpFace is the handler HTTPHandler returns: its own checks, then the
// SDK's streamable HTTP handler.
type httpFace struct {
	cfg       *faceConfig
	server    *sdk.Server
	sdk       http.Handler
	stateless bool

	admitMu sync.Mutex
	pending int // sessions being opened (see admit)

	sessMu   sync.Mutex
	sessions map[string]faceSession // by session id, for sessions that initialised
	pruned   int                    // len(sessions) after the last prune
}

// faceSession is what the HTTP face remembers of a session from its
// initialisation.
type faceSession struct {
	proposed   string // the protocol version the client proposed
	negotiated string // the version the server answered
}

// ServeHTTP checks the request's session and the sessions' cap, then
// serves it with the SDK's handler.
func (h *httpFace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var version string // the protocol version header to use instead of the client's
	if sid := r.Header.Get(headerSessionID); sid != "" && !h.stateless {
		if st, ok := h.session(sid); ok {
			if v := r.Header.Get(headerProtocolVersion); v != "" && v == st.proposed && v != st.negotiated {
				version = st.negotiated
			}
		}
	}
	if r.Method == http.MethodPost && (h.stateless || r.Header.Get(headerSessionID) == "") && h.cfg.maxSessions > 0 {
		release, ok := h.admit()
		if !ok {
			http.Error(w, fmt.Sprintf("mcpserver: this server already holds its maximum of %d MCP sessions; end a session you no longer use (HTTP DELETE) or try again later",
				h.cfg.maxSessions), http.StatusServiceUnavailable)
			return
		}
		defer release()
	}
	if version != "" {
		r = r.Clone(r.Context())
		r.Header.Set(headerProtocolVersion, version)
	}
	h.sdk.ServeHTTP(w, r)
}

// admit reserves room for a new session, or reports false when the
// server holds its maximum. The sessions counted are those the SDK holds
// plus those being opened (which the SDK may already hold: the count errs
// on the side of the cap). release gives the reservation back once the
// request that opens the session has been served.
func (h *httpFace) admit() (release func(), ok bool) {
	h.admitMu.Lock()
	defer h.admitMu.Unlock()
	n := h.pending
	for range h.server.Sessions() {
		if n++; n >= h.cfg.maxSessions {
			break
		}
	}
	if n >= h.cfg.maxSessions {
		return nil, false
	}
	h.pending++
	return func() {
		h.admitMu.Lock()
		h.pending--
		h.admitMu.Unlock()
	}, true
}

// recordSession is a receiving middleware: it remembers, for each session
// that initialises, the versions proposed and negotiated.
func (h *httpFace) recordSession(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		res, err := next(ctx, method, req)
		ir, ok := res.(*sdk.InitializeResult)
		if err != nil || !ok || req.GetSession() == nil || req.GetSession().ID() == "" {
			return res, err
		}
		params, ok := req.GetParams().(*sdk.InitializeParams)
		if !ok || params == nil {
			return res, err
		}
		h.remember(req.GetSession().ID(), faceSession{proposed: params.ProtocolVersion, negotiated: ir.ProtocolVersion})
		return res, err
	}
}

// remember records a session, forgetting those that have ended whenever
// the record has doubled since it was last pruned (so pruning costs O(1)
// per session).
func (h *httpFace) remember(sid string, st faceSession) {
	h.sessMu.Lock()
	defer h.sessMu.Unlock()
	h.sessions[sid] = st
	if len(h.sessions) < 2*h.pruned+64 {
		return
	}
	live := make(map[string]bool, len(h.sessions))
	for ss := range h.server.Sessions() {
		live[ss.ID()] = true
	}
	for id := range h.sessions {
		if !live[id] {
			delete(h.sessions, id)
		}
	}
	h.pruned = len(h.sessions)
}

// session returns what was recorded of session sid.
func (h *httpFace) session(sid string) (faceSession, bool) {
	h.sessMu.Lock()
	defer h.sessMu.Unlock()
	st, ok := h.sessions[sid]
	return st, ok
}
