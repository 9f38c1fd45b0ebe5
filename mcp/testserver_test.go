package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// envTestServer, when set, makes the test binary an MCP server instead of
// running tests: the stdio and HTTP tests start themselves as the server
// they talk to, so they need no binary but the one under test. Its value
// says how the server behaves (the serve* constants).
const envTestServer = "CAXTON_MCP_TEST_SERVER"

// How the test server behaves, as the value of envTestServer.
const (
	// serveStdio serves stdio and exits (status 0) when its stdin closes,
	// as the MCP stdio transport asks.
	serveStdio = "1"
	// serveLinger serves stdio but keeps running after its stdin closes,
	// as some servers in the field do, until it is signalled.
	serveLinger = "linger"
	// serveStubborn lingers and ignores SIGTERM too: only SIGKILL ends it.
	serveStubborn = "stubborn"
	// serveFail exits with status 3 when its stdin closes.
	serveFail = "fail"
	// serveHTTP serves streamable HTTP (see serveHTTPForTest).
	serveHTTP = "http"
)

// envTestAddr is the address the HTTP test server listens on (default
// 127.0.0.1:0); a restarted server is given the address of the first.
const envTestAddr = "CAXTON_MCP_TEST_ADDR"

// init turns the binary into the test server before the testing package
// gets to write anything to stdout (which is the MCP channel). It lives in
// init rather than TestMain so that it cannot collide with a TestMain
// elsewhere in the package.
func init() {
	mode := os.Getenv(envTestServer)
	switch mode {
	case "":
		return
	case serveHTTP:
		serveHTTPForTest()
		os.Exit(0)
	case serveStubborn:
		signal.Ignore(syscall.SIGTERM)
	}
	s := newTestServer(nil, true)
	err := s.Run(context.Background(), &sdk.StdioTransport{MaxLineLength: -1})
	if err != nil && !errors.Is(err, context.Canceled) {
		os.Stderr.WriteString("test server: " + err.Error() + "\n")
	}
	switch mode {
	case serveLinger, serveStubborn:
		time.Sleep(time.Hour) // until a signal ends the process
	case serveFail:
		os.Exit(3)
	}
	os.Exit(0)
}

// serveHTTPForTest serves the test tools over streamable HTTP the way
// servers in the field do: streams are resumable (an event store numbers
// the events, so a client whose stream breaks tries to resume it), and a
// request for a session the server does not know is answered 400, as the
// Python SDK does, not 404. It prints its endpoint's URL as the first line
// on stdout and serves until its stdin closes.
func serveHTTPForTest() {
	addr := os.Getenv(envTestAddr)
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.Stderr.WriteString("test server: " + err.Error() + "\n")
		os.Exit(1)
	}
	srv := newTestServer(nil, true)
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv },
		&sdk.StreamableHTTPOptions{EventStore: sdk.NewMemoryEventStore(nil)})
	known := func(id string) bool {
		for ss := range srv.Sessions() {
			if ss.ID() == id {
				return true
			}
		}
		return false
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	os.Stdout.WriteString("http://" + ln.Addr().String() + "/mcp\n")
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("Mcp-Session-Id"); id != "" && !known(id) {
			http.Error(w, "Bad Request: No valid session ID provided", http.StatusBadRequest)
			return
		}
		h.ServeHTTP(w, r)
	}))
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
		case <-time.After(1 * time.Second):
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
