package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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
// In front of the SDK's handler it
//   - refuses, with 403, a browser request whose Origin is not one allowed
//     by WithAllowedOrigins (none by default), which stops DNS rebinding;
//     the SDK also refuses a request to a localhost listener that carries a
//     foreign Host header;
//   - with WithAuthenticator, identifies the caller of every request (401 or
//     403 if it cannot), keeps each session to the subject that opened it,
//     and hands the Identity to the tools (IdentityFrom) and the log;
//   - closes sessions idle for WithSessionTimeout (30 minutes) and refuses,
//     with 503, a new session beyond WithMaxSessions (1000);
//   - accepts, on a session's later requests, the protocol version the
//     client proposed at initialisation in the MCP-Protocol-Version header,
//     as the version negotiated then. The spec has the client send the
//     negotiated version; some clients (mark3labs/mcp-go proposing
//     2026-07-28) send their own again, and the SDK would refuse every call
//     as "unsupported protocol version" although initialisation succeeded.
//
// Its tools send messages as the server's inbox: beyond localhost, give it
// an Authenticator.
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
	h.origins = make(map[string]bool, len(f.cfg.origins))
	for _, o := range f.cfg.origins {
		if n, err := faceOrigin(o); err == nil {
			h.origins[n] = true
		}
	}
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
	origins   map[string]bool // normalised (faceOrigin)

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
	subject    string // who opened it ("" without an Authenticator)
}

// ServeHTTP checks the request's origin, caller, session and the
// sessions' cap, then serves it with the SDK's handler.
func (h *httpFace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && !h.originAllowed(o) {
		http.Error(w, fmt.Sprintf("mcpserver: pages from origin %q may not use this MCP server (the server's operator allows origins with WithAllowedOrigins)", o),
			http.StatusForbidden)
		return
	}
	ctx := r.Context()
	var id Identity
	if h.cfg.authenticate != nil {
		var err error
		id, err = h.cfg.authenticate(r)
		switch {
		case errors.Is(err, ErrForbidden):
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		case err != nil:
			challenge := h.cfg.challenge
			if challenge == "" {
				challenge = `Bearer realm="caxton"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		case id.Subject == "":
			http.Error(w, "mcpserver: the server's Authenticator returned an Identity without a Subject", http.StatusInternalServerError)
			return
		}
		ctx = withIdentity(ctx, id)
	}
	var version string // the protocol version header to use instead of the client's
	if sid := r.Header.Get(headerSessionID); sid != "" && !h.stateless {
		if st, ok := h.session(sid); ok {
			if h.cfg.authenticate != nil && st.subject != id.Subject {
				http.Error(w, "mcpserver: this MCP session was opened by another caller; initialise a session of your own", http.StatusForbidden)
				return
			}
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
	if ctx != r.Context() || version != "" {
		r = r.Clone(ctx)
		if version != "" {
			r.Header.Set(headerProtocolVersion, version)
		}
	}
	h.sdk.ServeHTTP(w, r)
}

// originAllowed reports whether pages of origin o may call the server.
func (h *httpFace) originAllowed(o string) bool {
	if h.cfg.anyOrigin {
		return true
	}
	n, err := faceOrigin(o)
	return err == nil && h.origins[n]
}

// faceOrigin normalises a web origin: lower-case scheme and host, the
// port if any, nothing else. "null" (an opaque origin) stays as it is.
func faceOrigin(o string) (string, error) {
	if o == "null" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not a web origin (scheme://host[:port], such as https://app.example.com)", o)
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), nil
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
// that initialises, the versions proposed and negotiated and who opened
// it.
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
		st := faceSession{proposed: params.ProtocolVersion, negotiated: ir.ProtocolVersion}
		if id, ok := IdentityFrom(ctx); ok {
			st.subject = id.Subject
		}
		h.remember(req.GetSession().ID(), st)
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
