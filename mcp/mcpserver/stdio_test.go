package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/mcp/mcpserver"
)

// envStdioServer, when set to 1, makes the test binary a ServeStdio
// server (a runtime with an "echo" agent) instead of running tests, so the
// stdio tests drive the real thing over a real process's stdin and stdout.
// It is an init rather than a TestMain so that nothing else writes to
// stdout first.
const envStdioServer = "CAXTON_MCPSERVER_TEST_STDIO"

func init() {
	if os.Getenv(envStdioServer) != "1" {
		return
	}
	ctx := context.Background()
	rt, err := caxton.New()
	if err == nil {
		err = rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(
			func(ctx context.Context, mc *caxton.MessageContext) error {
				return mc.Reply(ctx, acl.Inform, mc.Message().Content)
			})})
	}
	if err == nil {
		err = mcpserver.ServeStdio(ctx, rt)
		_ = rt.Close(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdio test server:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// stdioProcess is the test binary serving MCP over its stdin and stdout.
type stdioProcess struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	responses chan map[string]any // each line it writes, decoded
}

func startStdioProcess(t *testing.T) *stdioProcess {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envStdioServer+"=1", "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &stdioProcess{cmd: cmd, stdin: stdin, responses: make(chan map[string]any, 16)}
	go func() {
		defer close(p.responses)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.responses <- m
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	return p
}

// send writes one message (a line) to the server.
func (p *stdioProcess) send(t *testing.T, parts ...string) {
	t.Helper()
	for _, s := range parts {
		_, err := io.WriteString(p.stdin, s)
		require.NoError(t, err)
	}
	_, err := io.WriteString(p.stdin, "\n")
	require.NoError(t, err)
}

// sendBig writes a message whose middle is n bytes of 'x', without
// holding it in memory.
func (p *stdioProcess) sendBig(t *testing.T, head string, n int, tail string) {
	t.Helper()
	_, err := io.WriteString(p.stdin, head)
	require.NoError(t, err)
	chunk := []byte(strings.Repeat("x", 64<<10))
	for n > 0 {
		k := min(n, len(chunk))
		_, err := p.stdin.Write(chunk[:k])
		require.NoError(t, err)
		n -= k
	}
	p.send(t, tail)
}

// next returns the server's next message; the session ending fails the
// test.
func (p *stdioProcess) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m, ok := <-p.responses:
		require.True(t, ok, "the server ended the session")
		return m
	case <-caxtontest.Context(t).Done():
		t.Fatal("no answer from the server")
		return nil
	}
}

// TestServeStdioRefusesAnOversizeMessage: a message over the 16 MiB limit
// is answered with a JSON-RPC error, with its id when the id comes first
// and id null when it cannot be read, and the session goes on (it used to
// end on the first such message, with every later call failing).
func TestServeStdioRefusesAnOversizeMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 32 MiB through a pipe")
	}
	p := startStdioProcess(t)
	p.send(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`)
	require.Contains(t, p.next(t), "result")
	p.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	call := `"method":"tools/call","params":{"name":"request","arguments":{"receivers":["echo"],"content":"`
	for _, tc := range []struct {
		name       string
		head, tail string
		wantID     any
		want       string
	}{
		{"the id first", `{"jsonrpc":"2.0","id":2,` + call, `"}}}`, float64(2), "over this server's limit of 16777216 bytes"},
		{"the id last", `{"jsonrpc":"2.0",` + call, `"}},"id":3}`, nil, "this error's id is null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.sendBig(t, tc.head, mcpserver.DefaultMaxMessageBytes+1, tc.tail)
			m := p.next(t)
			assert.Equal(t, tc.wantID, m["id"])
			require.Contains(t, m, "error")
			e := m["error"].(map[string]any)
			assert.Equal(t, float64(-32600), e["code"])
			assert.Contains(t, e["message"], tc.want)
		})
	}

	// The session goes on.
	p.send(t, `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"request","arguments":{"receivers":["echo"],"content":"still serving"}}}`)
	m := p.next(t)
	assert.Equal(t, float64(4), m["id"])
	require.Contains(t, m, "result", "%v", m)
	assert.Equal(t, "still serving", m["result"].(map[string]any)["structuredContent"].(map[string]any)["content"])
}
