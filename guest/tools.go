package guest

import (
	"encoding/json"

	"github.com/caxton-go/caxton/tool"
)

// ToolBuffer is the size of the buffer a tool result is copied into: the
// host's default result limit (tool.DefaultMaxResult). A larger result
// comes back as tool.StatusTooLarge.
const ToolBuffer = tool.DefaultMaxResult

// CallTool calls a host tool (one the host granted this agent) with args
// marshalled to JSON ([]byte and json.RawMessage are used as they are).
// The outcome is a value, numbered as on the host (package tool): check
// Status, or Err. The call is synchronous: the host runs it with its own
// timeout while the guest waits, and that time does not count against the
// batch deadline.
func (c *Context) CallTool(name string, args any) tool.Result {
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
			return tool.Result{Status: tool.StatusBadArguments, Content: []byte(err.Error()), Tool: name}
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
	return tool.Result{Status: tool.Status(status), Content: append([]byte(nil), buf[:n]...), Tool: name}
}
