package guest

import (
	"encoding/json"
	"fmt"
)

// ToolStatus is how a tool call ended (the numbering of caxton.ToolStatus:
// it is part of the ABI). A denial or a tool's error is a value the agent
// handles, never a trap.
type ToolStatus uint8

// Tool call statuses.
const (
	ToolOK           ToolStatus = iota // Content is the result
	ToolError                          // the tool ran and reported an error
	ToolDenied                         // the agent's grant does not allow this tool
	ToolRateLimited                    // over the agent's rate; try later
	ToolTimeout                        // the call took too long
	ToolUnavailable                    // no such tool, or its server failed
	ToolBadArguments                   // arguments are not a JSON object or break the schema
	ToolTooLarge                       // the result is larger than allowed or than the buffer
)

var toolStatusNames = [...]string{"ok", "tool error", "denied", "rate limited", "timeout", "unavailable", "bad arguments", "too large"}

func (s ToolStatus) String() string {
	if int(s) < len(toolStatusNames) {
		return toolStatusNames[s]
	}
	return fmt.Sprintf("ToolStatus(%d)", s)
}

// ToolResult is a tool call's outcome: the result when Status is ToolOK,
// otherwise the reason.
type ToolResult struct {
	Status  ToolStatus
	Content []byte
	Tool    string // the tool called
}

// Err returns nil for ToolOK, otherwise an error with the status and reason.
func (r ToolResult) Err() error {
	if r.Status == ToolOK {
		return nil
	}
	return fmt.Errorf("tool %q: %s: %s", r.Tool, r.Status, r.Content)
}

// ToolBuffer is the size of the buffer a tool result is copied into (the
// host's default result limit). A larger result comes back as ToolTooLarge.
const ToolBuffer = 1 << 20

// CallTool calls a host tool (one the host granted this agent) with args
// marshalled to JSON ([]byte and json.RawMessage are used as they are).
// The call is synchronous: the host runs it with its own timeout while the
// guest waits, and that time does not count against the batch deadline.
func (c *Context) CallTool(name string, args any) ToolResult {
	var raw []byte
	switch v := args.(type) {
	case nil:
		raw = []byte("{}")
	case []byte:
		raw = v
	case json.RawMessage:
		raw = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return ToolResult{Status: ToolBadArguments, Content: []byte(err.Error()), Tool: name}
		}
		raw = b
	}
	if c.toolBuf == nil {
		c.toolBuf = new([]byte)
	}
	if cap(*c.toolBuf) < ToolBuffer {
		*c.toolBuf = make([]byte, ToolBuffer)
	}
	buf := (*c.toolBuf)[:ToolBuffer]
	status, n := c.host.toolCall(name, raw, buf)
	return ToolResult{Status: ToolStatus(status), Content: append([]byte(nil), buf[:n]...), Tool: name}
}
