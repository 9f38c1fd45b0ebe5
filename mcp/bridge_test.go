package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/tool"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memServer serves srv over in-memory transports, one per session.
type memServer struct {
	t   *testing.T
	srv *sdk.Server

	mu       sync.Mutex
	sessions []*sdk.ServerSession
}

func newMemServer(t *testing.T, srv *sdk.Server) *memServer {
	m := &memServer{t: t, srv: srv}
	t.Cleanup(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, ss := range m.sessions {
			_ = ss.Close()
			_ = ss.Wait()
		}
	})
	return m
}

// transport connects the server side first, as the go-sdk requires.
func (m *memServer) transport() mcp.Transport {
	return mcp.SDK(func() sdk.Transport {
		st, ct := sdk.NewInMemoryTransports()
		ss, err := m.srv.Connect(context.Background(), st, nil)
		if err != nil {
			m.t.Errorf("server connect: %v", err)
			return ct
		}
		m.mu.Lock()
		m.sessions = append(m.sessions, ss)
		m.mu.Unlock()
		return ct
	})
}

func (m *memServer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// kill ends the newest session from the server's side.
func (m *memServer) kill() {
	m.mu.Lock()
	ss := m.sessions[len(m.sessions)-1]
	m.mu.Unlock()
	require.NoError(m.t, ss.Close())
}

// sessionEnds is a log handler that signals each time the registry logs
// that a server's session ended: the event after which the registry's next
// call opens a new session.
type sessionEnds chan struct{}

func (e sessionEnds) Enabled(context.Context, slog.Level) bool { return true }
func (e sessionEnds) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "session ended") {
		e <- struct{}{}
	}
	return nil
}
func (e sessionEnds) WithAttrs([]slog.Attr) slog.Handler { return e }
func (e sessionEnds) WithGroup(string) slog.Handler      { return e }

// noticed waits until the registry has logged a session's end.
func (e sessionEnds) noticed(t *testing.T) {
	t.Helper()
	select {
	case <-e:
	case <-time.After(bound):
		t.Fatal("the registry did not notice that the session ended")
	}
}

// killedRegistry returns a registry whose server session was killed, after
// the registry noticed.
func killedRegistry(t *testing.T) (*mcp.Registry, *memServer) {
	ends := make(sessionEnds, 4)
	reg, m := memRegistry(t, mcp.WithLogger(slog.New(ends)))
	require.Equal(t, "hi", string(call(t, reg, "files/echo", `{"text":"hi"}`, grant("files/*")).Content))
	require.Equal(t, 1, m.count())
	m.kill()
	ends.noticed(t)
	return reg, m
}

// memRegistry returns a registry with the test server connected as
// "files".
func memRegistry(t *testing.T, opts ...mcp.Option) (*mcp.Registry, *memServer) {
	noLeaks(t)
	m := newMemServer(t, newTestServer(nil, false))
	reg := mcp.NewRegistry(opts...)
	t.Cleanup(func() { require.NoError(t, reg.Close()) })
	require.NoError(t, reg.Connect(testContext(t), "files", m.transport()))
	return reg, m
}

func TestConnectImportsWithNamespace(t *testing.T) {
	reg, _ := memRegistry(t)
	require.NoError(t, reg.Add(mcp.Tool{Name: "local", Handler: func(context.Context, tool.Call) ([]byte, error) { return nil, nil }}))

	var names []string
	for _, ti := range reg.Tools() {
		names = append(names, ti.Name)
		if ti.Name == "local" {
			assert.Equal(t, mcp.SourceHost, ti.Source)
			continue
		}
		assert.Equal(t, "files", ti.Source)
		assert.Contains(t, ti.Description, "")
		assert.True(t, json.Valid(ti.InputSchema), "%s", ti.InputSchema)
	}
	// The server lists two tools per page: all pages were read.
	assert.Equal(t, []string{"files/add", "files/big", "files/count", "files/echo", "files/fail", "files/mixed",
		"files/protoerr", "files/sleep", "local"}, names)
	var echo map[string]any
	for _, ti := range reg.Tools() {
		if ti.Name == "files/echo" {
			require.NoError(t, json.Unmarshal(ti.InputSchema, &echo))
			assert.Equal(t, "echo (test tool)", ti.Description)
		}
	}
	assert.Equal(t, []any{"text"}, echo["required"])

	// Names.
	m := newMemServer(t, newTestServer(nil, false))
	require.ErrorIs(t, reg.Connect(testContext(t), "files", m.transport()), mcp.ErrExists)
	var de *mcp.DefinitionError
	require.ErrorAs(t, reg.Connect(testContext(t), "a/b", m.transport()), &de)
	assert.Equal(t, "server name", de.Field)
	require.ErrorAs(t, reg.Connect(testContext(t), "x", nil), &de)
	assert.Equal(t, "Transport", de.Field)
}

func TestConnectFailureFreesTheName(t *testing.T) {
	noLeaks(t)
	reg := mcp.NewRegistry()
	defer reg.Close()
	broken := mcp.SDK(func() sdk.Transport { return failingTransport{} })
	err := reg.Connect(testContext(t), "files", broken)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `connect to server "files"`)
	assert.Contains(t, err.Error(), "no route")
	assert.Empty(t, reg.Tools())

	m := newMemServer(t, newTestServer(nil, false))
	require.NoError(t, reg.Connect(testContext(t), "files", m.transport()))
}

type failingTransport struct{}

func (failingTransport) Connect(context.Context) (sdk.Connection, error) {
	return nil, errors.New("no route to server")
}

func TestServerToolCalls(t *testing.T) {
	tests := []struct {
		name   string
		tool   string
		args   string
		grant  tool.Grant
		status tool.Status
		want   string // the content, or a part of the reason
	}{
		{"text", "files/echo", `{"text":"hello"}`, grant("files/*"), tool.StatusOK, "hello"},
		{"structured", "files/add", `{"a":2,"b":3}`, grant("files/add"), tool.StatusOK, `{"sum":5}`},
		{"other contents as JSON", "files/mixed", `{}`, grant("*"), tool.StatusOK, "a picture:\n" + `{"type":"image","mimeType":"image/png","data":"cG5n"}`},
		{"isError", "files/fail", `{}`, grant("files/*"), tool.StatusError, "it failed on purpose"},
		{"protocol error", "files/protoerr", `{}`, grant("files/*"), tool.StatusError, "the handler broke"},
		{"schema checked here", "files/echo", `{"text":1}`, grant("files/*"), tool.StatusBadArguments, "input schema"},
		{"required checked here", "files/echo", `{}`, grant("files/*"), tool.StatusBadArguments, "text"},
		{"inferred schema", "files/add", `{"a":"two"}`, grant("files/*"), tool.StatusBadArguments, "a"},
		{"not an object", "files/echo", `"hi"`, grant("files/*"), tool.StatusBadArguments, "got a string"},
		{"timeout", "files/sleep", `{}`, tool.Grant{Allow: []string{"files/sleep"}, Timeout: 50 * time.Millisecond}, tool.StatusTimeout, "timeout of 50ms"},
		{"too large", "files/big", `{"n":100}`, tool.Grant{Allow: []string{"files/big"}, MaxResult: 99}, tool.StatusTooLarge, "returned 100 bytes"},
		{"unknown tool", "files/nope", `{}`, grant("files/*"), tool.StatusUnavailable, `no tool named "files/nope"`},
		{"one tool granted", "files/add", `{}`, grant("files/echo"), tool.StatusDenied, `add "files/add" or "files/*" or "*"`},
		{"other server granted", "files/echo", `{"text":"x"}`, grant("web/*"), tool.StatusDenied, `its grant allows ["web/*"]`},
	}
	reg, _ := memRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, reg, tt.tool, tt.args, tt.grant)
			require.Equal(t, tt.status, res.Status, "content: %s", res.Content)
			if tt.status == tool.StatusOK {
				assert.Equal(t, tt.want, string(res.Content))
			} else {
				assert.Contains(t, string(res.Content), tt.want)
			}
			rec := lastAudit(t, reg)
			assert.Equal(t, tt.tool, rec.Tool)
			assert.Equal(t, tt.status, rec.Status)
			assert.Equal(t, len(tt.args), rec.ArgBytes)
		})
	}
	// The session survived all of that.
	res := call(t, reg, "files/echo", `{"text":"still here"}`, grant("files/*"))
	assert.Equal(t, "still here", string(res.Content))
}

func TestToolRemovedFromServer(t *testing.T) {
	srv := newTestServer(nil, false)
	noLeaks(t)
	m := newMemServer(t, srv)
	reg := mcp.NewRegistry()
	defer reg.Close()
	require.NoError(t, reg.Connect(testContext(t), "files", m.transport()))
	srv.RemoveTools("echo")
	res := call(t, reg, "files/echo", `{"text":"x"}`, grant("files/*"))
	require.Equal(t, tool.StatusUnavailable, res.Status, "%s", res.Content)
	assert.Contains(t, string(res.Content), `unknown tool "echo"`)
}

func TestReconnectsAfterTheSessionEnds(t *testing.T) {
	reg, m := killedRegistry(t)
	res := call(t, reg, "files/echo", `{"text":"again"}`, grant("files/*"))
	require.Equal(t, tool.StatusOK, res.Status, "%s", res.Content)
	assert.Equal(t, "again", string(res.Content))
	assert.Equal(t, 2, m.count())
	assert.Len(t, reg.Tools(), 8, "the tools were listed again, not added twice")
}

// A call that races the session's end, before the registry noticed it,
// may find the connection closing under it. The go-sdk then reports the
// end of the stream (io.EOF) whether or not the request was written, so
// the registry cannot tell that it did not run: it is not repeated, the
// agent is told the server is unavailable, and the next call reconnects.
func TestACallRacingTheSessionsEndIsNotRepeated(t *testing.T) {
	for i := range 20 {
		reg, m := memRegistry(t)
		m.kill()
		res := call(t, reg, "files/echo", `{"text":"racing"}`, grant("files/*"))
		if res.Status != tool.StatusOK {
			require.Equal(t, tool.StatusUnavailable, res.Status, "round %d: %s", i, res.Content)
			assert.Contains(t, string(res.Content), "the next call reconnects", "round %d", i)
		}
		res = call(t, reg, "files/echo", `{"text":"after"}`, grant("files/*"))
		require.Equal(t, tool.StatusOK, res.Status, "round %d: %s", i, res.Content)
		assert.Equal(t, "after", string(res.Content))
		assert.Equal(t, 2, m.count(), "round %d: one new session", i)
	}
}

func TestConcurrentCallsShareOneReconnection(t *testing.T) {
	reg, m := killedRegistry(t)
	var wg sync.WaitGroup
	results := make([]tool.Result, 8)
	for i := range results {
		wg.Go(func() { results[i] = call(t, reg, "files/add", `{"a":1,"b":1}`, grant("*")) })
	}
	wg.Wait()
	for i, res := range results {
		assert.Equal(t, tool.StatusOK, res.Status, "call %d: %s", i, res.Content)
	}
	assert.Equal(t, 2, m.count(), "one new session for all the calls")
}

func TestCloseEndsCallsInFlight(t *testing.T) {
	noLeaks(t)
	srv := newTestServer(nil, false)
	started := make(chan struct{})
	srv.AddTool(&sdk.Tool{Name: "block", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, _ *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		})
	m := newMemServer(t, srv)
	reg := mcp.NewRegistry()
	require.NoError(t, reg.Connect(testContext(t), "files", m.transport()))

	done := make(chan tool.Result, 1)
	go func() { done <- call(t, reg, "files/block", `{}`, grant("*")) }()
	<-started
	require.NoError(t, reg.Close())
	res := <-done
	assert.Equal(t, tool.StatusUnavailable, res.Status, "%s", res.Content)
	assert.Contains(t, string(res.Content), "the tool registry was closed during the call")

	res = call(t, reg, "files/echo", `{"text":"x"}`, grant("*"))
	assert.Equal(t, tool.StatusUnavailable, res.Status)
	assert.Contains(t, string(res.Content), "closed")
	require.ErrorIs(t, reg.Connect(testContext(t), "more", mcp.SDK(func() sdk.Transport { return failingTransport{} })), mcp.ErrClosed)
}
