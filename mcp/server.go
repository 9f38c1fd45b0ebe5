package mcp

// # The server face
//
// NewServer turns a caxton.Runtime into an MCP server, so an LLM client
// (Claude Desktop, an IDE, an agent framework) can look at the agents and
// talk to them: list_agents, send_message, receive_messages, request,
// contract_net, dead_letters and replay_dead_letters. ServeStdio serves one
// client over stdin/stdout; HTTPHandler serves any number over MCP's
// streamable HTTP transport. Every tool validates its arguments and answers
// a bad one with a tool error that names the field, so the model can
// correct itself; runtime failures (an unknown agent, no reply in time)
// are tool errors with the reason, never protocol errors or panics.
//
// The server takes part in the bus as host inboxes: it sends from one
// (named "mcp" by default, see WithServerInbox), where replies to its
// messages wait for receive_messages, and runs Contract Net rounds from a
// second one (the inbox's name + "/contract-net") read by a
// protocol.Client. Both live until the runtime closes or the context given
// to WithServerContext ends; ServeStdio releases them when it returns.
// Waiting (request timeouts, proposal deadlines, result timeouts) is
// measured on the runtime's clock, so a fake clock drives it in tests.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
)

// The names of the tools NewServer registers, for WithServerTools.
const (
	ServerToolListAgents        = "list_agents"
	ServerToolSendMessage       = "send_message"
	ServerToolReceiveMessages   = "receive_messages"
	ServerToolRequest           = "request"
	ServerToolContractNet       = "contract_net"
	ServerToolDeadLetters       = "dead_letters"
	ServerToolReplayDeadLetters = "replay_dead_letters"
)

// faceToolNames lists every tool of the server face, in registration
// order.
var faceToolNames = []string{
	ServerToolListAgents, ServerToolSendMessage, ServerToolReceiveMessages, ServerToolRequest,
	ServerToolContractNet, ServerToolDeadLetters, ServerToolReplayDeadLetters,
}

// Defaults of the server face.
const (
	// DefaultServerInbox is the name of the host inbox the server sends
	// from (see WithServerInbox).
	DefaultServerInbox acl.AgentID = "mcp"
	// DefaultServerTimeout is how long request waits for a reply, and how
	// long contract_net waits for the winners' results, when the caller
	// does not say (see WithServerTimeouts).
	DefaultServerTimeout = 10 * time.Second
	// DefaultServerMaxTimeout is the longest wait a caller may ask for.
	// Many MCP clients give up on a tool call after a minute.
	DefaultServerMaxTimeout = time.Minute
	// DefaultServerDeadline is contract_net's proposal deadline when the
	// caller does not give one.
	DefaultServerDeadline = 5 * time.Second
)

// faceInstructions tell the model what it is talking to.
const faceInstructions = `This server exposes a Caxton agent runtime. Agents are named programs that exchange FIPA ACL messages (a performative such as request, inform, query-ref or cfp, plus content).
Start with list_agents to see the agents, their state, topics and capabilities. Use request to ask one agent something and get its reply; use send_message for fire-and-forget messages and receive_messages to read what arrives for this server afterwards. Use contract_net to let capable agents bid for a task and have the best one do it. dead_letters shows messages agents failed to handle; replay_dead_letters retries them.`

// ServerOption configures NewServer, ServeStdio and HTTPHandler.
type ServerOption func(*faceConfig)

type faceConfig struct {
	impl         sdk.Implementation
	inbox        acl.AgentID
	timeout      time.Duration
	maxTimeout   time.Duration
	ctx          context.Context
	sdkOpts      *sdk.ServerOptions
	httpOpts     *sdk.StreamableHTTPOptions
	tools        []string
	toolsLimited bool
}

// WithServerName sets the implementation name the server reports to
// clients (default "caxton").
func WithServerName(name string) ServerOption {
	return func(c *faceConfig) { c.impl.Name = name }
}

// WithServerVersion sets the implementation version the server reports
// (default: the caxton module's version from the build info, or "devel").
func WithServerVersion(version string) ServerOption {
	return func(c *faceConfig) { c.impl.Version = version }
}

// WithServerInbox names the host inbox the server sends from and where
// replies to send_message wait for receive_messages (default "mcp"). The
// Contract Net initiator uses a second inbox, this name + "/contract-net".
// Pass rt.Inbox().Name() to share the runtime's default inbox; the
// server then reads (and consumes) the host's messages too. Two servers on
// one runtime need different names.
func WithServerInbox(name acl.AgentID) ServerOption {
	return func(c *faceConfig) { c.inbox = name }
}

// WithServerTimeouts sets how long request and contract_net wait when the
// caller gives no timeout (default 10s), and the longest wait a caller may
// ask for (default one minute); longer requests are refused, naming the
// field. Both are measured on the runtime's clock.
func WithServerTimeouts(def, maxWait time.Duration) ServerOption {
	return func(c *faceConfig) { c.timeout, c.maxTimeout = def, maxWait }
}

// WithServerContext ties the server's resources to ctx: when ctx ends, the
// server closes its inboxes and its Contract Net client, and its tools
// fail from then on. Without it they live as long as the runtime.
func WithServerContext(ctx context.Context) ServerOption {
	return func(c *faceConfig) { c.ctx = ctx }
}

// WithServerOptions passes options to the SDK server (logger, keep-alive,
// page size, ...). Empty Instructions get the server face's own, which
// explain the tools to the model.
func WithServerOptions(o *sdk.ServerOptions) ServerOption {
	return func(c *faceConfig) { c.sdkOpts = o }
}

// WithServerHTTPOptions passes options to the streamable HTTP handler that
// HTTPHandler makes (stateless mode, JSON responses, session timeout, ...).
func WithServerHTTPOptions(o *sdk.StreamableHTTPOptions) ServerOption {
	return func(c *faceConfig) { c.httpOpts = o }
}

// WithServerTools registers only the named tools (the ServerTool*
// constants): for example ServerToolListAgents and ServerToolDeadLetters
// alone make a read-only face. An unknown name makes NewServer fail.
// Without this option every tool is registered; without contract_net the
// server needs no Contract Net inbox.
func WithServerTools(names ...string) ServerOption {
	return func(c *faceConfig) { c.tools, c.toolsLimited = slices.Clone(names), true }
}

func newFaceConfig(opts []ServerOption) (*faceConfig, error) {
	c := &faceConfig{
		impl:       sdk.Implementation{Name: "caxton", Version: faceModuleVersion()},
		inbox:      DefaultServerInbox,
		timeout:    DefaultServerTimeout,
		maxTimeout: DefaultServerMaxTimeout,
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("mcp: nil ServerOption")
		}
		o(c)
	}
	switch {
	case c.impl.Name == "":
		return nil, errors.New("mcp: WithServerName: empty name")
	case c.impl.Version == "":
		return nil, errors.New("mcp: WithServerVersion: empty version")
	case c.timeout <= 0:
		return nil, fmt.Errorf("mcp: WithServerTimeouts: default %v is not positive", c.timeout)
	case c.maxTimeout < c.timeout:
		return nil, fmt.Errorf("mcp: WithServerTimeouts: maximum %v is below the default %v", c.maxTimeout, c.timeout)
	}
	if err := c.inbox.Validate(); err != nil {
		return nil, fmt.Errorf("mcp: WithServerInbox: %w", err)
	}
	if c.inbox.IsTopic() {
		return nil, fmt.Errorf("mcp: WithServerInbox: %q is a topic address", c.inbox)
	}
	if err := faceNegotiatorName(c.inbox).Validate(); err != nil {
		return nil, fmt.Errorf("mcp: WithServerInbox: the Contract Net inbox name: %w", err)
	}
	if !c.toolsLimited {
		c.tools = faceToolNames
	}
	for _, n := range c.tools {
		if !slices.Contains(faceToolNames, n) {
			return nil, fmt.Errorf("mcp: WithServerTools: unknown tool %q (known: %v)", n, faceToolNames)
		}
	}
	return c, nil
}

// faceModuleVersion is the caxton module's version as built into the
// binary, or "devel".
func faceModuleVersion() string {
	const path = "github.com/caxton-go/caxton"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == path && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == path && d.Version != "" {
				return d.Version
			}
		}
	}
	return "devel"
}

func faceNegotiatorName(inbox acl.AgentID) acl.AgentID { return inbox + "/contract-net" }

// face holds what the tools share: the runtime, the inbox messages
// go out from, and the Contract Net client.
type face struct {
	rt       *caxton.Runtime
	cfg      *faceConfig
	inbox    *caxton.Inbox
	ownInbox bool // the server made inbox (it is not the runtime's default)
	cnetIn   *caxton.Inbox
	cnet     *protocol.Client

	closeOnce sync.Once
	closed    atomic.Bool
}

// NewServer returns an MCP server whose tools drive rt, for an LLM client
// to look at the agents and talk to them: list_agents, send_message,
// receive_messages, request, contract_net, dead_letters and
// replay_dead_letters (the ServerTool* constants; WithServerTools picks a
// subset). Run it on any SDK transport (server.Run, server.Connect), or use
// ServeStdio or HTTPHandler.
//
// The tools are typed: their input and output JSON schemas are inferred,
// with descriptions written for the model, and each result carries both
// structured content and the same JSON as text. A bad argument is a tool
// error (IsError) naming the field, so the model can correct itself; a
// runtime failure (an unknown agent, no reply in time) is a tool error
// with the reason. Waits (request's timeout, contract_net's deadlines,
// receive_messages' wait) are measured on the runtime's clock and bounded
// by WithServerTimeouts.
//
// NewServer registers the server's host inboxes on rt: the one it sends
// from, where replies to send_message wait for receive_messages ("mcp",
// see WithServerInbox), and the Contract Net initiator's
// ("mcp/contract-net"). It fails if a name is taken. They, and the
// protocol.Client reading the second, live until rt closes or the context
// given to WithServerContext ends.
func NewServer(rt *caxton.Runtime, opts ...ServerOption) (*sdk.Server, error) {
	f, s, err := newFace(rt, opts)
	if err != nil {
		return nil, err
	}
	f.watch()
	return s, nil
}

// ServeStdio serves rt to one MCP client over standard input and output
// until the client disconnects or ctx ends, then releases the server's
// inboxes. It is what a command started by Claude Desktop or an IDE runs:
//
//	func main() {
//		rt, _ := caxton.New()
//		defer rt.Close(context.Background())
//		// ... spawn agents ...
//		if err := mcp.ServeStdio(context.Background(), rt); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// Nothing else may write to standard output meanwhile: it carries the
// protocol. Log to standard error.
func ServeStdio(ctx context.Context, rt *caxton.Runtime, opts ...ServerOption) error {
	return faceServe(ctx, rt, &sdk.StdioTransport{}, opts)
}

// faceServe runs a fresh server on t until the session or ctx ends.
func faceServe(ctx context.Context, rt *caxton.Runtime, t sdk.Transport, opts []ServerOption) error {
	if ctx == nil {
		return errors.New("mcp: nil context.Context")
	}
	f, s, err := newFace(rt, opts)
	if err != nil {
		return err
	}
	defer f.close()
	f.watch()
	return s.Run(ctx, t)
}

// HTTPHandler returns an http.Handler that serves rt over MCP's streamable
// HTTP transport: one server (see NewServer) shared by every session, so
// all clients send from the same inbox. Mount it where clients connect
// (for example at "/mcp"). The SDK rejects requests to a localhost
// listener that carry a foreign Host header; put authentication in front
// of it before exposing it beyond the machine, because its tools send
// messages as the server's inbox.
func HTTPHandler(rt *caxton.Runtime, opts ...ServerOption) (http.Handler, error) {
	f, s, err := newFace(rt, opts)
	if err != nil {
		return nil, err
	}
	f.watch()
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, f.cfg.httpOpts), nil
}

func newFace(rt *caxton.Runtime, opts []ServerOption) (*face, *sdk.Server, error) {
	if rt == nil {
		return nil, nil, errors.New("mcp: nil *caxton.Runtime")
	}
	cfg, err := newFaceConfig(opts)
	if err != nil {
		return nil, nil, err
	}
	f := &face{rt: rt, cfg: cfg}
	if cfg.inbox == rt.Inbox().Name() {
		f.inbox = rt.Inbox()
	} else {
		if f.inbox, err = rt.NewInbox(cfg.inbox); err != nil {
			return nil, nil, fmt.Errorf("mcp: server inbox %q (choose another with WithServerInbox): %w", cfg.inbox, err)
		}
		f.ownInbox = true
	}
	if slices.Contains(cfg.tools, ServerToolContractNet) {
		name := faceNegotiatorName(cfg.inbox)
		if f.cnetIn, err = rt.NewInbox(name); err != nil {
			f.close()
			return nil, nil, fmt.Errorf("mcp: Contract Net inbox %q (choose another with WithServerInbox): %w", name, err)
		}
		f.cnet = protocol.NewClient(f.cnetIn, protocol.WithClock(rt.Clock()), protocol.WithLogger(rt.Logger()))
	}
	s, err := f.newSDKServer()
	if err != nil {
		f.close()
		return nil, nil, err
	}
	return f, s, nil
}

func (f *face) newSDKServer() (*sdk.Server, error) {
	var so sdk.ServerOptions
	if f.cfg.sdkOpts != nil {
		so = *f.cfg.sdkOpts
	}
	if so.Instructions == "" {
		so.Instructions = faceInstructions
	}
	impl := f.cfg.impl
	s := sdk.NewServer(&impl, &so)
	for _, name := range f.cfg.tools {
		if err := f.addTool(s, name); err != nil {
			return nil, fmt.Errorf("mcp: tool %s: %w", name, err)
		}
	}
	return s, nil
}

func (f *face) addTool(s *sdk.Server, name string) error {
	switch name {
	case ServerToolListAgents:
		return faceAddTool(s, faceListAgentsTool(), f.listAgents)
	case ServerToolSendMessage:
		return faceAddTool(s, faceSendMessageTool(), f.sendMessage)
	case ServerToolReceiveMessages:
		return faceAddTool(s, faceReceiveMessagesTool(), f.receiveMessages)
	case ServerToolRequest:
		return faceAddTool(s, faceRequestTool(), f.request)
	case ServerToolContractNet:
		return faceAddTool(s, faceContractNetTool(), f.contractNet)
	case ServerToolDeadLetters:
		return faceAddTool(s, faceDeadLettersTool(), f.deadLetters)
	case ServerToolReplayDeadLetters:
		return faceAddTool(s, faceReplayTool(), f.replayDeadLetters)
	}
	return fmt.Errorf("unknown tool %q", name)
}

// watch closes the face when the WithServerContext context ends.
func (f *face) watch() {
	if f.cfg.ctx != nil {
		context.AfterFunc(f.cfg.ctx, f.close)
	}
}

// errFaceClosed is what every tool answers once the face is closed.
var errFaceClosed = errors.New("this MCP server has been shut down (its context ended); reconnect to a running one")

// close releases the server's inboxes and client; it is idempotent.
func (f *face) close() {
	f.closeOnce.Do(func() {
		f.closed.Store(true)
		if f.cnet != nil {
			_ = f.cnet.Close()
		}
		if f.cnetIn != nil {
			_ = f.cnetIn.Close()
		}
		if f.ownInbox && f.inbox != nil {
			_ = f.inbox.Close()
		}
	})
}
