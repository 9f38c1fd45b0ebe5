package guest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/tool"
)

// CallTool marshals the arguments, hands the host a ToolBuffer-sized
// buffer, and reads the host's status as a tool.Status, naming the tool.
func TestCallTool(t *testing.T) {
	type seen struct {
		name, args string
		cap        int
	}
	var got seen
	h := &fakeHost{tool: func(name string, args, out []byte) (uint8, int) {
		got = seen{name, string(args), len(out)}
		switch name {
		case "upper":
			return uint8(tool.StatusOK), copy(out, `"HI"`)
		case "wipe":
			return uint8(tool.StatusDenied), copy(out, "not granted")
		}
		return uint8(tool.StatusUnavailable), copy(out, "no tool "+name)
	}}
	tests := []struct {
		name   string
		tool   string
		args   any
		want   tool.Result
		wantIn seen // zero: the host is not called
	}{
		{"a value is marshalled", "upper", map[string]string{"text": "hi"},
			tool.Result{Status: tool.StatusOK, Content: []byte(`"HI"`), Tool: "upper"},
			seen{"upper", `{"text":"hi"}`, ToolBuffer}},
		{"nil is an empty object", "upper", nil,
			tool.Result{Status: tool.StatusOK, Content: []byte(`"HI"`), Tool: "upper"},
			seen{"upper", `{}`, ToolBuffer}},
		{"raw JSON as it is", "upper", json.RawMessage(`{"text":"x"}`),
			tool.Result{Status: tool.StatusOK, Content: []byte(`"HI"`), Tool: "upper"},
			seen{"upper", `{"text":"x"}`, ToolBuffer}},
		{"bytes as they are", "upper", []byte(`{"n":1}`),
			tool.Result{Status: tool.StatusOK, Content: []byte(`"HI"`), Tool: "upper"},
			seen{"upper", `{"n":1}`, ToolBuffer}},
		{"a denial is a value", "wipe", nil,
			tool.Result{Status: tool.StatusDenied, Content: []byte("not granted"), Tool: "wipe"},
			seen{"wipe", `{}`, ToolBuffer}},
		{"unmarshallable arguments never reach the host", "upper", make(chan int),
			tool.Result{Status: tool.StatusBadArguments, Content: []byte("json: unsupported type: chan int"), Tool: "upper"},
			seen{}},
	}
	d := &dispatcher{host: h}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got = seen{}
			c := &Context{host: h, toolBuf: &d.toolBuf}
			r := c.CallTool(tc.tool, tc.args)
			assert.Equal(t, tc.want, r)
			assert.Equal(t, tc.wantIn, got)
			if tc.want.Status == tool.StatusOK {
				assert.NoError(t, r.Err())
				return
			}
			var ce *tool.CallError
			require.ErrorAs(t, r.Err(), &ce)
			assert.Equal(t, tc.tool, ce.Tool)
			assert.Equal(t, tc.want.Status, ce.Status)
		})
	}
	assert.Equal(t, tool.DefaultMaxResult, cap(d.toolBuf), "one buffer, reused across calls")
}
