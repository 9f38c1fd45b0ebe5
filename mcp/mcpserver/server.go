package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
)

// The names of the tools New registers, for WithTools.
const (
	ToolListAgents        = "list_agents"
	ToolSendMessage       = "send_message"
	ToolReceiveMessages   = "receive_messages"
	ToolRequest           = "request"
	ToolContractNet       = "contract_net"
	ToolDeadLetters       = "dead_letters"
	ToolReplayDeadLetters = "replay_dead_letters"
)

// faceToolNames lists every tool of the server face, in registration
// order.
var faceToolNames = []string{
	ToolListAgents, ToolSendMessage, ToolReceiveMessages, ToolRequest,
	ToolContractNet, ToolDeadLetters, ToolReplayDeadLetters,
}

// Defaults of the server face.
const (
	// DefaultInbox is the name of the host inbox the server sends from (see
	// WithInbox).
	DefaultInbox acl.AgentID = "mcp"
	// DefaultTimeout is how long request waits for a reply, and how long
	// contract_net waits for the winners' results, when the caller does not
	// say (see WithTimeouts).
	DefaultTimeout = 10 * time.Second
	// DefaultMaxTimeout is the longest wait a caller may ask for.
	// Many MCP clients give up on a tool call after a minute.
	DefaultMaxTimeout = time.Minute
	// DefaultProposalDeadline is contract_net's proposal deadline when the
	// caller does not give one.
	DefaultProposalDeadline = 5 * time.Second
)

// faceInstructions tell the model what it is talking to.
const faceInstructions = `This server exposes a Caxton agent runtime. Agents are named programs that exchange FIPA ACL messages (a performative such as request, inform, query-ref or cfp, plus content).
Start with list_agents to see the agents, their state, topics and capabilities. Use request to ask one agent something and get its reply; use send_message for fire-and-forget messages and receive_messages to read what arrives for this server afterwards. Use contract_net to let capable agents bid for a task and have the best one do it. dead_letters shows messages agents failed to handle; replay_dead_letters retries them.`

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

// New returns an MCP server whose tools drive rt, for an LLM client to
// look at the agents and talk to them: list_agents, send_message,
// receive_messages, request, contract_net, dead_letters and
// replay_dead_letters (the Tool* constants; WithTools picks a subset). Run
// it on any SDK transport (server.Run, server.Connect), or use ServeStdio
// or HTTPHandler.
//
// The tools are typed: their input and output JSON schemas are inferred,
// with descriptions written for the model, and each result carries both
// structured content and the same JSON as text. A bad argument is a tool
// error (IsError) naming the field, so the model can correct itself; a
// runtime failure (an unknown agent, no reply in time) is a tool error
// with the reason. Waits (request's timeout, contract_net's deadlines,
// receive_messages' wait) are measured on the runtime's clock and bounded
// by WithTimeouts.
//
// New registers the server's host inboxes on rt: the one it sends from,
// where replies to send_message wait for receive_messages ("mcp", see
// WithInbox), and the Contract Net initiator's ("mcp/contract-net"). It
// fails if a name is taken. They, and the protocol.Client reading the
// second, live until rt closes or the context given to WithContext ends.
func New(rt *caxton.Runtime, opts ...Option) (*sdk.Server, error) {
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
//		if err := mcpserver.ServeStdio(context.Background(), rt); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// Nothing else may write to standard output meanwhile: it carries the
// protocol. Log to standard error.
//
// A message over the size limit (DefaultMaxMessageBytes, see
// WithMaxMessageBytes) is answered with a JSON-RPC error — with its
// request's id, or id null if the id is not in its first 64 KiB — and the
// session goes on; skipping it holds at most a 32 KiB chunk of it in
// memory.
func ServeStdio(ctx context.Context, rt *caxton.Runtime, opts ...Option) error {
	return faceServe(ctx, rt, func(cfg *faceConfig) sdk.Transport {
		return stdioTransport(os.Stdin, os.Stdout, cfg.maxMessage)
	}, opts)
}

// faceServe runs a fresh server on the transport that transport makes
// for the configuration, until the session or ctx ends.
func faceServe(ctx context.Context, rt *caxton.Runtime, transport func(*faceConfig) sdk.Transport, opts []Option) error {
	if ctx == nil {
		return errors.New("mcpserver: nil context.Context")
	}
	f, s, err := newFace(rt, opts)
	if err != nil {
		return err
	}
	defer f.close()
	f.watch()
	return s.Run(ctx, transport(f.cfg))
}

func newFace(rt *caxton.Runtime, opts []Option) (*face, *sdk.Server, error) {
	if rt == nil {
		return nil, nil, errors.New("mcpserver: nil *caxton.Runtime")
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
			return nil, nil, fmt.Errorf("mcpserver: server inbox %q (choose another with WithInbox): %w", cfg.inbox, err)
		}
		f.ownInbox = true
	}
	if slices.Contains(cfg.tools, ToolContractNet) {
		name := faceNegotiatorName(cfg.inbox)
		if f.cnetIn, err = rt.NewInbox(name); err != nil {
			f.close()
			return nil, nil, fmt.Errorf("mcpserver: Contract Net inbox %q (choose another with WithInbox): %w", name, err)
		}
		f.cnet = protocol.NewClient(f.cnetIn, protocol.WithLogger(rt.Logger()))
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
	inputs := make(map[string]*jsonschema.Schema, len(f.cfg.tools))
	for _, name := range f.cfg.tools {
		if err := f.addTool(s, inputs, name); err != nil {
			return nil, fmt.Errorf("mcpserver: tool %s: %w", name, err)
		}
	}
	s.AddReceivingMiddleware(faceLogCalls(f.rt), faceCheckArguments(inputs))
	return s, nil
}

func (f *face) addTool(s *sdk.Server, inputs map[string]*jsonschema.Schema, name string) error {
	switch name {
	case ToolListAgents:
		return faceAddTool(s, inputs, faceListAgentsTool(), f.listAgents)
	case ToolSendMessage:
		return faceAddTool(s, inputs, faceSendMessageTool(), f.sendMessage)
	case ToolReceiveMessages:
		return faceAddTool(s, inputs, faceReceiveMessagesTool(), f.receiveMessages)
	case ToolRequest:
		return faceAddTool(s, inputs, faceRequestTool(), f.request)
	case ToolContractNet:
		return faceAddTool(s, inputs, faceContractNetTool(), f.contractNet)
	case ToolDeadLetters:
		return faceAddTool(s, inputs, faceDeadLettersTool(), f.deadLetters)
	case ToolReplayDeadLetters:
		return faceAddTool(s, inputs, faceReplayTool(), f.replayDeadLetters)
	}
	return fmt.Errorf("unknown tool %q", name)
}

// watch closes the face when the WithContext context ends.
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
