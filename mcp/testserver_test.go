package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// envTestServer, when set to 1, makes the test binary an MCP server on
// stdio instead of running tests: the stdio tests start themselves as the
// server they talk to, so they need no binary but the one under test.
const envTestServer = "CAXTON_MCP_TEST_SERVER"

// init turns the binary into the test server before the testing package
// gets to write anything to stdout (which is the MCP channel). It lives in
// init rather than TestMain so that it cannot collide with a TestMain
// elsewhere in the package.
func init() {
	if os.Getenv(envTestServer) != "1" {
		return
	}
	s := newTestServer(nil, true)
	err := s.Run(context.Background(), &sdk.StdioTransport{MaxLineLength: -1})
	if err != nil && !errors.Is(err, context.Canceled) {
		os.Stderr.WriteString("test server: " + err.Error() + "\n")
	}
	os.Exit(0)
}

// newTestServer returns an MCP server with the test tools. calls, if not
// nil, counts the calls of "count". withDie adds "die", which exits the
// process: only for a subprocess.
func newTestServer(calls *atomic.Int64, withDie bool) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "caxton-test", Version: "v0"}, &sdk.ServerOptions{PageSize: 2})
	raw := func(name, schema string, h sdk.ToolHandler) {
		s.AddTool(&sdk.Tool{Name: name, Description: name + " (test tool)", InputSchema: json.RawMessage(schema)}, h)
	}
	text := func(s string) *sdk.CallToolResult {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: s}}}
	}
	args := func(req *sdk.CallToolRequest) map[string]any {
		var m map[string]any
		_ = json.Unmarshal(req.Params.Arguments, &m)
		return m
	}
	raw("echo", `{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`,
		func(_ context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return text(args(req)["text"].(string)), nil
		})
	type addIn struct {
		A float64 `json:"a"`
		B float64 `json:"b"`
	}
	type addOut struct {
		Sum float64 `json:"sum"`
	}
	sdk.AddTool(s, &sdk.Tool{Name: "add", Description: "adds a and b"},
		func(_ context.Context, _ *sdk.CallToolRequest, in addIn) (*sdk.CallToolResult, addOut, error) {
			return nil, addOut{Sum: in.A + in.B}, nil
		})
	raw("fail", `{"type":"object"}`, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		res := text("it failed on purpose")
		res.IsError = true
		return res, nil
	})
	raw("protoerr", `{"type":"object"}`, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return nil, errors.New("the handler broke")
	})
	raw("sleep", `{"type":"object"}`, func(ctx context.Context, _ *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		// The client's cancel notification is best effort (the go-sdk sends
		// it asynchronously); bound the wait so a lost one cannot hang the
		// server's shutdown, and a test with it.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Second):
			return text("woke up"), nil
		}
	})
	raw("big", `{"type":"object","properties":{"n":{"type":"integer","minimum":0}},"required":["n"]}`,
		func(_ context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return text(strings.Repeat("x", int(args(req)["n"].(float64)))), nil
		})
	raw("mixed", `{"type":"object"}`, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{
			&sdk.TextContent{Text: "a picture:"},
			&sdk.ImageContent{Data: []byte("png"), MIMEType: "image/png"},
		}}, nil
	})
	raw("count", `{"type":"object"}`, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		n := int64(0)
		if calls != nil {
			n = calls.Add(1)
		}
		return text(strings.Repeat("I", int(n))), nil
	})
	if withDie {
		raw("die", `{"type":"object"}`, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			os.Exit(3)
			return nil, nil
		})
	}
	return s
}
