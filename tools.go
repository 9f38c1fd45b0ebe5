package caxton

import (
	"context"
	"encoding/json"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/tool"
)

// WithToolbox gives the runtime's agents tools (each within its
// AgentSpec.Tools grant). Without one, every call is
// tool.StatusUnavailable. The runtime closes the toolbox on Close: with
// its Shutdown(ctx) method, bounded by Close's context, if it has one (an
// mcp.Registry does: its MCP sessions and server processes end with the
// runtime), else with Close if it is an io.Closer.
func WithToolbox(tb tool.Toolbox) Option {
	return func(cfg *config) error {
		if tb == nil {
			return specErr("WithToolbox", "nil toolbox")
		}
		cfg.toolbox = tb
		return nil
	}
}

// callTool is the one path of a tool call, from native and wasm agents:
// the runtime stamps the caller and its grant here, so a toolbox never
// takes an agent's word for who it is or what it may do.
func (rt *Runtime) callTool(ctx context.Context, agent acl.AgentID, grant tool.Grant, name string, args []byte) tool.Result {
	if rt.cfg.toolbox == nil {
		return tool.Result{Status: tool.StatusUnavailable, Content: []byte("the runtime has no toolbox (caxton.WithToolbox)"), Tool: name}
	}
	if len(args) == 0 {
		args = []byte("{}")
	}
	r := rt.cfg.toolbox.CallTool(ctx, tool.Call{Agent: agent, Tool: name, Arguments: args, Grant: grant})
	r.Tool = name
	if r.Status == tool.StatusDenied {
		rt.auditf(AuditTool, "agent:"+string(agent), "call tool", name, false, string(r.Content), traceID(ctx))
	}
	return r
}

// CallTool calls the tool named name on the agent's behalf, within its
// AgentSpec.Tools grant. args is marshalled to JSON (a json.RawMessage or
// []byte is used as is; nil is an empty object). The outcome is a value,
// never an error the runtime retries: check Status (or Err).
func (mc *MessageContext) CallTool(ctx context.Context, name string, args any) tool.Result {
	var raw []byte
	switch v := args.(type) {
	case nil:
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return tool.Result{Status: tool.StatusBadArguments, Content: []byte(err.Error()), Tool: name}
		}
		raw = b
	}
	return mc.rt.callTool(ctx, mc.in.a.name(), mc.ver.tools, name, raw)
}
