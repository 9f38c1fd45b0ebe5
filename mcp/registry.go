package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/clock"
	"github.com/caxton-go/caxton/tool"
	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of the registry's tracer.
const ScopeName = "github.com/caxton-go/caxton/mcp"

// SourceHost is the ToolInfo.Source of tools added with Registry.Add.
const SourceHost = "host"

// Registry holds the tools agents may call — Go functions the host adds
// and tools imported from MCP servers — and is the tool.Toolbox that
// enforces each agent's grant, audits every call and keeps server sessions
// alive. Create it with NewRegistry, give it to the runtime with
// caxton.WithToolbox; the runtime closes it when it closes (Close is
// idempotent, so closing it yourself as well is harmless). It is safe for
// concurrent use.
type Registry struct {
	clock     clock.Clock
	logger    *slog.Logger
	tracer    trace.Tracer
	auditHook func(AuditRecord)
	auditSize int
	client    *sdk.Client

	mu      sync.RWMutex
	tools   map[string]*entry
	servers map[string]*server
	closed  bool
	// stop cancels connections in progress when the registry closes, and
	// wg counts them and the goroutines that watch sessions, so Close
	// returns only once every session and subprocess is gone.
	stop context.CancelFunc
	ctx  context.Context
	wg   sync.WaitGroup

	limits limiters
	audit  auditRing

	brkFailures int           // WithServerBreaker; 0: none
	brkCooldown time.Duration //
}

// entry is a registered tool: a host handler, or a tool of a server.
type entry struct {
	info    ToolInfo
	schema  *jsonschema.Resolved // nil: arguments need only be an object
	handler func(context.Context, tool.Call) ([]byte, error)
	server  *server // nil for host tools
	remote  string  // the tool's name on its server
}

// NewRegistry returns an empty registry.
func NewRegistry(opts ...Option) *Registry {
	r := &Registry{
		clock:     clock.Real(),
		logger:    slog.New(slog.DiscardHandler),
		tracer:    tracenoop.NewTracerProvider().Tracer(ScopeName),
		auditSize: DefaultAuditBuffer,
		tools:     make(map[string]*entry),
		servers:   make(map[string]*server),
	}
	for _, o := range opts {
		if o != nil {
			o(r)
		}
	}
	r.ctx, r.stop = context.WithCancel(context.Background())
	r.audit.init(r.auditSize)
	r.limits.m = make(map[acl.AgentID]*limiter)
	r.client = sdk.NewClient(&sdk.Implementation{Name: "caxton", Version: "v0"},
		&sdk.ClientOptions{Logger: r.logger})
	return r
}

// Tool is a tool implemented by the host in Go.
type Tool struct {
	// Name is how agents call it and grant it: letters, digits, '_', '.'
	// and '-' ('/' is reserved for the namespaces of imported tools).
	Name string
	// Description tells a model (or a person) what the tool does.
	Description string
	// InputSchema is the JSON Schema of the arguments, an object schema
	// (default {"type":"object"}: any object). The registry checks every
	// call against it, so Handler sees only arguments that match.
	InputSchema json.RawMessage
	// Handler runs the call. Its context ends at the grant's timeout or when
	// the caller gives up; a handler that ignores it keeps running, but the
	// agent gets its answer (tool.StatusTimeout) on time all the same. An
	// error becomes tool.StatusError with the error's text; a panic is
	// recovered and becomes tool.StatusError too.
	Handler func(ctx context.Context, call tool.Call) ([]byte, error)
}

// ToolInfo describes a registered tool.
type ToolInfo struct {
	Name        string // as agents call it: "lookup", or "server/tool" when imported
	Description string
	InputSchema json.RawMessage
	// Source is SourceHost for tools added with Add, otherwise the name
	// of the server the tool was imported from.
	Source string
}

// Add registers a host tool. It fails with a *DefinitionError (ErrInvalid)
// naming the bad field, ErrExists if the name is taken, or ErrClosed.
func (r *Registry) Add(t Tool) error {
	if why := checkName(t.Name); why != "" {
		return defErr(t.Name, "Name", "%s", why)
	}
	if t.Handler == nil {
		return defErr(t.Name, "Handler", "is nil")
	}
	schema := t.InputSchema
	if len(schema) == 0 {
		schema = json.RawMessage(defaultSchema)
	}
	rs, err := compileSchema(schema)
	if err != nil {
		return defErr(t.Name, "InputSchema", "%v", err)
	}
	tl := &entry{
		info: ToolInfo{Name: t.Name, Description: t.Description,
			InputSchema: slices.Clone(schema), Source: SourceHost},
		schema:  rs,
		handler: t.Handler,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if _, dup := r.tools[t.Name]; dup {
		return fmt.Errorf("%w: tool %q", ErrExists, t.Name)
	}
	r.tools[t.Name] = tl
	return nil
}

// Tools lists the registered tools, sorted by name. Imported tools are
// those their server listed when its session last (re)initialised.
func (r *Registry) Tools() []ToolInfo {
	r.mu.RLock()
	out := make([]ToolInfo, 0, len(r.tools))
	for _, t := range r.tools {
		info := t.info
		info.InputSchema = slices.Clone(info.InputSchema)
		out = append(out, info)
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b ToolInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// lookup returns the tool named name, or nil.
func (r *Registry) lookup(name string) *entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.tools[name]
}

// isClosed reports whether Close has been called.
func (r *Registry) isClosed() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.closed
}

// enter registers work that Close must wait for (a connection being made),
// or reports false if the registry is closed. The caller calls r.wg.Done.
func (r *Registry) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	return true
}

// Close closes every server session — stopping subprocesses and waiting
// for them to exit — and makes later calls tool.StatusUnavailable. Calls
// already running on a server end as tool.StatusUnavailable; host handlers
// still running are not waited for. Close is idempotent: calls after the
// first return nil. The error joins what closing each session reported: a
// subprocess that exited with a failure, or had to be killed (one that
// exits when its stdin closes, or on the SIGTERM that follows, has shut
// down normally; see CommandTransport). Shutdown is Close bounded by a
// context.
func (r *Registry) Close() error { return r.Shutdown(context.Background()) }

// Shutdown is Close bounded by ctx, which matters because closing waits for
// subprocesses to exit (seconds, for one that needs the SIGTERM): the
// registry is closed for calls at once, and if ctx ends before every
// session has closed, Shutdown returns ctx's cause while they finish in
// the background. A runtime's Close passes its own context here.
func (r *Registry) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	servers := make([]*server, 0, len(r.servers))
	for _, s := range r.servers {
		servers = append(servers, s)
	}
	r.mu.Unlock()
	r.stop()

	done := make(chan error, 1)
	go func() {
		errs := make([]error, len(servers))
		var wg sync.WaitGroup
		for i, s := range servers {
			wg.Go(func() { errs[i] = s.close() })
		}
		wg.Wait()
		r.wg.Wait()
		done <- errors.Join(errs...)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("mcp: shutdown: sessions still closing: %w", context.Cause(ctx))
	}
}
