package caxton

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// ToolStatus is how a tool call ended, as the agent sees it. A denial, a
// rate limit or a tool's own error is a value the agent handles — never a
// trap, never a handler failure the runtime retries.
type ToolStatus uint8

// Tool call statuses. The numbers are part of the guest ABI (sandbox/ABI.md).
const (
	ToolOK           ToolStatus = iota // Content is the result
	ToolError                          // the tool ran and reported an error (Content: its message)
	ToolDenied                         // the agent's ToolGrant does not allow this tool
	ToolRateLimited                    // over the grant's rate; try later
	ToolTimeout                        // the call took longer than the grant's timeout
	ToolUnavailable                    // no such tool, no toolbox, or its server failed
	ToolBadArguments                   // arguments are not a JSON object or break the tool's schema
	ToolTooLarge                       // the result is larger than the grant (or buffer) allows
)

var toolStatusNames = [...]string{"ok", "tool error", "denied", "rate limited", "timeout", "unavailable", "bad arguments", "too large"}

func (s ToolStatus) String() string {
	if int(s) < len(toolStatusNames) {
		return toolStatusNames[s]
	}
	return fmt.Sprintf("ToolStatus(%d)", s)
}

// ToolResult is the outcome of a tool call: the result when Status is
// ToolOK, otherwise a human-readable reason.
type ToolResult struct {
	Status  ToolStatus
	Content []byte
	// Tool is the tool called (filled in by the runtime), for messages.
	Tool string
}

// Err returns nil for ToolOK, otherwise a *ToolCallError.
func (r ToolResult) Err() error {
	if r.Status == ToolOK {
		return nil
	}
	return &ToolCallError{Tool: r.Tool, Status: r.Status, Reason: string(r.Content)}
}

// ToolCallError is a tool call that did not succeed, as an error.
type ToolCallError struct {
	Tool   string
	Status ToolStatus
	Reason string
}

func (e *ToolCallError) Error() string {
	return fmt.Sprintf("caxton: tool %q: %s: %s", e.Tool, e.Status, e.Reason)
}

// ToolGrant is what an agent may call and how. The zero value grants
// nothing: tools are denied by default.
type ToolGrant struct {
	// Allow lists tool names ("lookup"), namespaces ("files/*": every tool
	// imported from the server named files) and "*" (everything).
	Allow []string
	// Rate limits calls per second (0: unlimited); Burst is how many may
	// come at once (default: 1, or Rate rounded up).
	Rate  float64
	Burst int
	// Timeout bounds each call (default 30 s).
	Timeout time.Duration
	// MaxResult bounds a result's size in bytes (default 1 MiB).
	MaxResult int
}

// Grant defaults.
const (
	DefaultToolTimeout   = 30 * time.Second
	DefaultMaxToolResult = 1 << 20
)

// Allows reports whether the grant lets an agent call tool.
func (g ToolGrant) Allows(tool string) bool {
	for _, a := range g.Allow {
		switch {
		case a == "*" || a == tool:
			return true
		case strings.HasSuffix(a, "/*") && strings.HasPrefix(tool, a[:len(a)-1]):
			return true
		}
	}
	return false
}

// WithDefaults returns g with its zero (or, leniently, negative) limits
// replaced by the defaults, as a Toolbox called outside the runtime should
// treat it: Burst from Rate, DefaultToolTimeout, DefaultMaxToolResult.
func (g ToolGrant) WithDefaults() ToolGrant {
	if g.Rate > 0 && g.Burst <= 0 {
		g.Burst = max(1, int(g.Rate+0.999999))
	}
	if g.Timeout <= 0 {
		g.Timeout = DefaultToolTimeout
	}
	if g.MaxResult <= 0 {
		g.MaxResult = DefaultMaxToolResult
	}
	return g
}

// withDefaults validates g and fills in its defaults.
func (g ToolGrant) withDefaults() (ToolGrant, error) {
	for _, a := range g.Allow {
		if a == "" || strings.ContainsAny(a, " \t\n") || strings.HasSuffix(a, "/") ||
			strings.Contains(strings.TrimSuffix(a, "/*"), "*") && a != "*" {
			return g, specErr("Tools.Allow", "%q is not a tool name, a namespace/* or *", a)
		}
	}
	if g.Rate < 0 {
		return g, specErr("Tools.Rate", "%v is negative", g.Rate)
	}
	if g.Burst < 0 {
		return g, specErr("Tools.Burst", "%d is negative", g.Burst)
	}
	if g.Timeout < 0 {
		return g, specErr("Tools.Timeout", "%v is negative", g.Timeout)
	}
	if g.MaxResult < 0 {
		return g, specErr("Tools.MaxResult", "%d is negative", g.MaxResult)
	}
	return g.WithDefaults(), nil
}

// ToolCall is one call of a tool by an agent, with the agent's grant.
type ToolCall struct {
	Agent     acl.AgentID
	Tool      string
	Arguments json.RawMessage // a JSON object
	Grant     ToolGrant
}

// Toolbox runs agents' tool calls: it enforces the grant (allowlist, rate,
// timeout, result size), calls the tool and audits the call. mcp.Registry
// is the Toolbox for host-defined and MCP-server tools.
type Toolbox interface {
	CallTool(ctx context.Context, call ToolCall) ToolResult
}

// WithToolbox gives the runtime's agents tools (each within its
// AgentSpec.Tools grant). Without one, every call is ToolUnavailable. The
// runtime closes the toolbox on Close if it is an io.Closer (an
// mcp.Registry is: its MCP sessions and server processes end with the
// runtime).
func WithToolbox(tb Toolbox) Option {
	return func(cfg *config) error {
		if tb == nil {
			return specErr("WithToolbox", "nil toolbox")
		}
		cfg.toolbox = tb
		return nil
	}
}

// callTool is the one path of a tool call, from native and wasm agents.
func (rt *Runtime) callTool(ctx context.Context, agent acl.AgentID, grant ToolGrant, tool string, args []byte) ToolResult {
	if rt.cfg.toolbox == nil {
		return ToolResult{Status: ToolUnavailable, Content: []byte("the runtime has no toolbox (caxton.WithToolbox)"), Tool: tool}
	}
	if len(args) == 0 {
		args = []byte("{}")
	}
	r := rt.cfg.toolbox.CallTool(ctx, ToolCall{Agent: agent, Tool: tool, Arguments: args, Grant: grant})
	r.Tool = tool
	return r
}

// CallTool calls a tool on the agent's behalf, within its AgentSpec.Tools
// grant. args is marshalled to JSON (a json.RawMessage or []byte is used
// as is). The result is a value: check Status (or Err).
func (mc *MessageContext) CallTool(ctx context.Context, tool string, args any) ToolResult {
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
			return ToolResult{Status: ToolBadArguments, Content: []byte(err.Error())}
		}
		raw = b
	}
	return mc.rt.callTool(ctx, mc.in.a.name(), mc.in.a.spec.Tools, tool, raw)
}
