package tool

import (
	"context"
	"encoding/json"

	"github.com/caxton-go/caxton/acl"
)

// Call is one call of a tool by an agent, as a Toolbox receives it. The
// agent's Grant travels with the call, so a Toolbox enforces it without
// knowing anything of the runtime's agents.
type Call struct {
	// Agent is the caller, stamped by the runtime (an agent cannot claim
	// another's name).
	Agent acl.AgentID
	// Tool is the name called: "lookup", or "server/tool" for a tool
	// imported from an MCP server.
	Tool string
	// Arguments is a JSON object ("{}" when the agent passed none).
	Arguments json.RawMessage
	// Grant is the agent's grant, defaults filled in by the runtime.
	Grant Grant
}

// Toolbox runs agents' tool calls. It enforces the call's Grant (the
// allowlist, rate, timeout and result size), runs the tool and audits the
// call; every outcome, including a denial, is a Result, never an error.
// mcp.Registry is the Toolbox for host-defined Go tools and tools imported
// from MCP servers; a test can pass a ToolboxFunc.
type Toolbox interface {
	CallTool(ctx context.Context, call Call) Result
}

// ToolboxFunc adapts a function to the Toolbox interface, the way
// http.HandlerFunc adapts one to http.Handler. The function is then
// responsible for enforcing the grant.
type ToolboxFunc func(ctx context.Context, call Call) Result

// CallTool returns f(ctx, call).
func (f ToolboxFunc) CallTool(ctx context.Context, call Call) Result { return f(ctx, call) }
