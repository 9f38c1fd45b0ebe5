package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/caxton-go/caxton/internal/breaker"
	"io"
	"strings"
	"sync"
	"syscall"

	"github.com/caxton-go/caxton/telemetry"
	"github.com/caxton-go/caxton/tool"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Connect opens a session to an MCP server and imports each of its tools
// as "name/tool" (the server's listing is followed through all its pages).
// Agents are granted them one by one or all at once with "name/*".
//
// The registry keeps the session alive from then on: when the server
// forgets the session (an HTTP server restarted) or the connection was
// already closed, the call that finds out reconnects and is retried once,
// since its request never ran. When the connection breaks during a call (a
// subprocess died), that call is tool.StatusUnavailable — it may have had
// side effects, so it is not repeated — and the next call reconnects. A
// call that races the end of a session, sent before the registry noticed
// it, is told the same: the go-sdk reports the end of the stream whether
// or not the request was written, so the registry cannot know it did not
// run.
// Every reconnection lists the server's tools again.
//
// ctx bounds the first connection only. Connect fails with a
// *DefinitionError for a bad name, ErrExists if a server of that name is
// connected, ErrClosed, or the go-sdk's error if the server cannot be
// reached or initialised.
func (r *Registry) Connect(ctx context.Context, name string, t Transport) error {
	if why := checkName(name); why != "" {
		return defErr(name, "server name", "%s", why)
	}
	if t == nil {
		return defErr(name, "Transport", "is nil")
	}
	if ctx == nil {
		return defErr(name, "ctx", "is nil (use context.Background())")
	}
	s := &server{reg: r, name: name, transport: t, brk: r.newServerBreaker(name)}
	r.mu.Lock()
	switch {
	case r.closed:
		r.mu.Unlock()
		return ErrClosed
	case r.servers[name] != nil:
		r.mu.Unlock()
		return fmt.Errorf("%w: server %q", ErrExists, name)
	}
	r.servers[name] = s
	r.mu.Unlock()
	if _, err := s.get(ctx); err != nil {
		r.mu.Lock()
		delete(r.servers, name)
		r.mu.Unlock()
		return fmt.Errorf("mcp: connect to server %q: %w", name, err)
	}
	return nil
}

// server is a connected MCP server and its current session.
type server struct {
	reg       *Registry
	name      string
	transport Transport
	brk       *breaker.Breaker // WithServerBreaker; nil without

	mu         sync.Mutex
	cur        *session // nil: the next call connects
	connecting *attempt // non-nil while a connection is being made
	closed     bool
}

// session is one go-sdk client session; a goroutine (counted by the
// registry's WaitGroup) watches it and closes it when it ends or is
// dropped.
type session struct {
	cs       *sdk.ClientSession
	drop     chan struct{}
	dropOnce sync.Once
}

// attempt is a connection being made; calls that need the session while
// it is under way wait for its outcome instead of connecting again.
type attempt struct {
	done chan struct{}
	sess *session
	err  error
}

// get returns the current session, connecting if there is none.
func (s *server) get(ctx context.Context) (*session, error) {
	for {
		s.mu.Lock()
		switch {
		case s.closed:
			s.mu.Unlock()
			return nil, ErrClosed
		case s.cur != nil:
			sess := s.cur
			s.mu.Unlock()
			return sess, nil
		case s.connecting != nil:
			a := s.connecting
			s.mu.Unlock()
			select {
			case <-a.done:
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
			if a.err != nil && (errors.Is(a.err, context.Canceled) || errors.Is(a.err, context.DeadlineExceeded)) {
				continue // that caller gave up; try with our own time
			}
			return a.sess, a.err
		}
		a := &attempt{done: make(chan struct{})}
		s.connecting = a
		s.mu.Unlock()
		a.sess, a.err = s.connect(ctx)
		s.mu.Lock()
		s.connecting = nil
		close(a.done)
		s.mu.Unlock()
		return a.sess, a.err
	}
}

// connect makes a new session, lists the server's tools and installs
// both. Registry.Close cancels it and waits for it.
func (s *server) connect(ctx context.Context) (*session, error) {
	r := s.reg
	if !r.enter() {
		return nil, ErrClosed
	}
	defer r.wg.Done()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(r.ctx, func() { cancel(ErrClosed) })()

	cs, err := r.client.Connect(ctx, s.transport.Open(), nil)
	if err != nil {
		if c := context.Cause(ctx); c != nil {
			err = fmt.Errorf("%w (%w)", c, err)
		}
		return nil, err
	}
	tools, err := s.list(ctx, cs)
	if err != nil {
		_ = cs.Close()
		return nil, err
	}
	sess := &session{cs: cs, drop: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = cs.Close()
		return nil, ErrClosed
	}
	s.cur = sess
	r.install(s, tools)
	r.wg.Go(func() { s.watch(sess) })
	s.mu.Unlock()
	r.logger.Info("mcp: server session initialised", "server", s.name, "tools", len(tools))
	return sess, nil
}

// list fetches every tool of the server.
func (s *server) list(ctx context.Context, cs *sdk.ClientSession) ([]*entry, error) {
	var out []*entry
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("listing tools: %w", err)
		}
		if !checkRemoteName(t.Name) {
			s.reg.logger.Warn("mcp: tool not imported: its name cannot be granted", "server", s.name, "tool", t.Name)
			continue
		}
		raw := json.RawMessage(defaultSchema)
		if t.InputSchema != nil {
			if b, err := json.Marshal(t.InputSchema); err == nil {
				raw = b
			}
		}
		rs, err := compileSchema(raw)
		if err != nil {
			// The server checks its own arguments; the registry cannot.
			s.reg.logger.Warn("mcp: tool's input schema is unusable here; only the server checks arguments",
				"server", s.name, "tool", t.Name, "error", err)
		}
		out = append(out, &entry{
			info:   ToolInfo{Name: s.name + "/" + t.Name, Description: t.Description, InputSchema: raw, Source: s.name},
			schema: rs, server: s, remote: t.Name,
		})
	}
	return out, nil
}

// install replaces the tools of s with tools.
func (r *Registry) install(s *server, tools []*entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, t := range r.tools {
		if t.server == s {
			delete(r.tools, name)
		}
	}
	for _, t := range tools {
		r.tools[t.info.Name] = t
	}
}

// watch waits until sess ends (the server went away) or is dropped, then
// forgets it and closes it, which also reaps a subprocess.
func (s *server) watch(sess *session) {
	ended := make(chan error, 1)
	go func() { ended <- sess.cs.Wait() }() // returns once cs is closed, below at the latest
	var why error
	dropped := false
	select {
	case why = <-ended:
	case <-sess.drop:
		dropped = true
	}
	s.forget(sess)
	err := sess.cs.Close() // idempotent; reaps a subprocess
	if dropped {
		why = <-ended // Wait returns once cs is closed
	}
	s.reg.logger.Info("mcp: server session ended; the next call reconnects", "server", s.name,
		"reason", why, "close_error", err)
}

// forget makes sess no longer current.
func (s *server) forget(sess *session) {
	s.mu.Lock()
	if s.cur == sess {
		s.cur = nil
	}
	s.mu.Unlock()
}

// dropSession forgets sess and has its watcher close it.
func (s *server) dropSession(sess *session) {
	s.forget(sess)
	sess.dropOnce.Do(func() { close(sess.drop) })
}

// close ends the server's session for good.
func (s *server) close() error {
	s.mu.Lock()
	s.closed = true
	sess := s.cur
	s.cur = nil
	s.mu.Unlock()
	if sess == nil {
		return nil
	}
	sess.dropOnce.Do(func() { close(sess.drop) })
	if err := sess.cs.Close(); err != nil {
		return fmt.Errorf("mcp: close server %q: %w", s.name, err)
	}
	return nil
}

// call runs the tool remote on the server. When ctx ends, the result is
// a placeholder: CallTool says why ctx ended.
func (s *server) call(ctx context.Context, remote string, args json.RawMessage) tool.Result {
	for attempt := 1; ; attempt++ {
		sess, err := s.get(ctx)
		if err != nil {
			if errors.Is(err, ErrClosed) {
				return unavailable("the tool registry is closed")
			}
			if ctx.Err() == nil {
				s.reg.logger.Warn("mcp: cannot connect to server", "server", s.name, "error", err)
			}
			return unavailable(fmt.Sprintf("cannot connect to MCP server %q: %v", s.name, err))
		}
		params := &sdk.CallToolParams{Name: remote, Arguments: args}
		// The call continues the agent's trace on the server: W3C trace
		// context (and baggage) in params._meta, per the MCP conventions.
		meta := telemetry.MetaCarrier{}
		telemetry.DefaultPropagator().Inject(ctx, meta)
		if len(meta) > 0 {
			params.Meta = sdk.Meta(meta)
		}
		res, err := sess.cs.CallTool(ctx, params)
		if err == nil {
			return convertResult(res)
		}
		if ctx.Err() != nil {
			return unavailable(err.Error())
		}
		switch {
		case errors.Is(err, sdk.ErrSessionMissing), errors.Is(err, sdk.ErrConnectionClosed),
			errors.Is(err, io.ErrClosedPipe), errors.Is(err, syscall.EPIPE):
			// The request was never handled: the server had forgotten
			// the session, the connection was closed before it went out,
			// or nobody was reading the pipe it was written to. Safe to
			// send again, once, on a new session.
			s.dropSession(sess)
			if attempt == 1 {
				s.reg.logger.Info("mcp: session lost; reconnecting", "server", s.name, "error", err)
				continue
			}
			return unavailable(fmt.Sprintf("MCP server %q lost the session again after reconnecting: %v", s.name, err))
		case serverError(err) != nil:
			return protocolError(s.name, err) // the server answered
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			// The connection broke while the request was out: it may
			// have run, so it is not repeated.
			s.dropSession(sess)
			return unavailable(fmt.Sprintf("MCP server %q: the server died during the call (%v); the next call reconnects", s.name, err))
		}
		// Anything else failed in the transport with the request out — a
		// response stream that broke or ended without the answer, a
		// request the server refused before reading it: the session's
		// state is unknown. The call may have run, so it is not repeated,
		// and the next call re-initialises rather than trust the session.
		s.dropSession(sess)
		return unavailable(fmt.Sprintf("MCP server %q: the call failed in transport (%v); the next call reconnects", s.name, err))
	}
}

// codeRejected is the go-sdk's marker (jsonrpc2.ErrRejected, which is
// not exported) on errors of the transport itself — an HTTP request that
// failed — as opposed to an error response from the server.
const codeRejected = -32005

// protocolError turns the server's JSON-RPC error response (err has one,
// see serverError) into the call's result.
func protocolError(server string, err error) tool.Result {
	werr := serverError(err)
	msg := fmt.Sprintf("MCP server %q answered with an error (code %d): %s", server, werr.Code, werr.Message)
	switch {
	case werr.Code == jsonrpc.CodeMethodNotFound, strings.HasPrefix(werr.Message, "unknown tool"):
		return unavailable(msg)
	case werr.Code == jsonrpc.CodeInvalidParams:
		return tool.Result{Status: tool.StatusBadArguments, Content: []byte(msg)}
	}
	return tool.Result{Status: tool.StatusError, Content: []byte(msg)}
}

// serverError finds the server's error response in err's tree, if any
// (the go-sdk's own transport failures, codeRejected, are not one).
func serverError(err error) *jsonrpc.Error {
	var e *jsonrpc.Error
	if errors.As(err, &e) && e.Code != codeRejected {
		return e
	}
	return nil
}

// convertResult turns an MCP tool result into what the agent gets:
// structured content as JSON when there is some; otherwise the contents,
// text as is and anything else (images, resources) as its JSON, one per
// line. A result the tool marked IsError is tool.StatusError with its
// text.
func convertResult(res *sdk.CallToolResult) tool.Result {
	status := tool.StatusOK
	if res.IsError {
		status = tool.StatusError
	}
	if res.StructuredContent != nil && (!res.IsError || len(res.Content) == 0) {
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			return tool.Result{Status: tool.StatusError, Content: []byte("the tool's structured result cannot be encoded: " + err.Error())}
		}
		return tool.Result{Status: status, Content: b}
	}
	var out []byte
	for i, c := range res.Content {
		if i > 0 {
			out = append(out, '\n')
		}
		if t, ok := c.(*sdk.TextContent); ok {
			if len(res.Content) == 1 {
				return tool.Result{Status: status, Content: []byte(t.Text)}
			}
			out = append(out, t.Text...)
			continue
		}
		b, err := json.Marshal(c)
		if err != nil {
			return tool.Result{Status: tool.StatusError, Content: []byte("the tool's result cannot be encoded: " + err.Error())}
		}
		out = append(out, b...)
	}
	if res.IsError && len(out) == 0 {
		out = []byte("the tool reported an error without a message")
	}
	return tool.Result{Status: status, Content: out}
}
