package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// selfServer is a transport that runs this test binary as the test MCP
// server (see init in testserver_test.go).
func selfServer(t *testing.T) *mcp.CommandTransport {
	t.Helper()
	return selfServerMode(t, serveStdio)
}

// selfServerMode is selfServer with the test server's behaviour chosen
// (the serve* constants).
func selfServerMode(t *testing.T, mode string) *mcp.CommandTransport {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	tr := mcp.Command(exe)
	// A race-enabled binary sleeps a second before it exits (to let
	// reports finish); the server's exit on a closed stdin must be quick.
	tr.Env = append(os.Environ(), envTestServer+"="+mode, "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	tr.TerminateDuration = 2 * time.Second
	return tr
}

func TestStdioSubprocess(t *testing.T) {
	noLeaks(t)
	reg := mcp.NewRegistry()
	t.Cleanup(func() { require.NoError(t, reg.Close(), "the server exits cleanly when its stdin closes") })
	require.NoError(t, reg.Connect(testContext(t), "proc", selfServer(t)))
	require.Len(t, children(), 1)
	all := grant("proc/*")

	steps := []struct {
		name   string
		tool   string
		args   string
		grant  tool.Grant
		status tool.Status
		want   string
	}{
		{"text", "proc/echo", `{"text":"over stdio"}`, all, tool.StatusOK, "over stdio"},
		{"structured", "proc/add", `{"a":1.5,"b":2}`, all, tool.StatusOK, `{"sum":3.5}`},
		{"tool error", "proc/fail", `{}`, all, tool.StatusError, "it failed on purpose"},
		{"timeout", "proc/sleep", `{}`, tool.Grant{Allow: []string{"proc/*"}, Timeout: 50 * time.Millisecond}, tool.StatusTimeout, "timeout"},
		{"the session outlives a timeout", "proc/echo", `{"text":"still"}`, all, tool.StatusOK, "still"},
		{"the server dies during the call", "proc/die", `{}`, all, tool.StatusUnavailable, "the server died during the call"},
		{"the next call starts it again", "proc/echo", `{"text":"reborn"}`, all, tool.StatusOK, "reborn"},
		{"over MaxResult", "proc/big", `{"n":2000000}`, all, tool.StatusTooLarge, "returned 2000000 bytes; the grant's MaxResult is 1048576"},
		{"the session outlives a large result", "proc/echo", `{"text":"fine"}`, all, tool.StatusOK, "fine"},
	}
	for _, st := range steps {
		res := call(t, reg, st.tool, st.args, st.grant)
		require.Equal(t, st.status, res.Status, "%s: %s", st.name, res.Content)
		if st.status == tool.StatusOK {
			assert.Equal(t, st.want, string(res.Content), st.name)
		} else {
			assert.Contains(t, string(res.Content), st.want, st.name)
		}
	}
	recs := reg.Audit()
	require.Len(t, recs, len(steps), "one audit record per call")
	for i, st := range steps {
		assert.Equal(t, st.status, recs[i].Status, st.name)
		assert.Equal(t, st.tool, recs[i].Tool, st.name)
	}
	assert.Equal(t, 2000000, recs[7].ResultBytes)
	assertEventually(t, func() bool { return len(children()) == 1 }, "the dead server to be reaped")
}

// TestStdioLargeResult moves a result past the go-sdk's default 16 MiB
// stdio message cap, which would otherwise break the session.
func TestStdioLargeResult(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 17 MiB through a pipe")
	}
	noLeaks(t)
	reg := mcp.NewRegistry()
	t.Cleanup(func() { require.NoError(t, reg.Close()) })
	require.NoError(t, reg.Connect(testContext(t), "proc", selfServer(t)))
	n := 16<<20 + 1 // the text alone is over the cap
	// Slow under the race detector (both ends are instrumented): give it
	// time, the test is about size.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := reg.CallTool(ctx, tool.Call{Agent: "a1", Tool: "proc/big", Arguments: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
		Grant: tool.Grant{Allow: []string{"proc/big"}, MaxResult: 32 << 20, Timeout: 2 * time.Minute}})
	require.Equal(t, tool.StatusOK, res.Status, "%.200s", res.Content)
	require.Len(t, res.Content, n)
	assert.Equal(t, strings.Repeat("x", 16), string(res.Content[:16]))
	assert.Equal(t, tool.StatusOK, call(t, reg, "proc/echo", `{"text":"x"}`, grant("*")).Status)
	assert.Equal(t, n, reg.Audit()[0].ResultBytes, "the audit sees the size")
}

func TestStdioMessageCap(t *testing.T) {
	noLeaks(t)
	tr := selfServer(t)
	tr.MaxMessageBytes = 64 << 10
	// The first server may be stuck writing what nobody reads any more,
	// and then does not exit when its stdin closes: make the SIGTERM come
	// sooner (but not so soon that the second, healthy one cannot exit
	// cleanly on Close).
	tr.TerminateDuration = 500 * time.Millisecond
	reg := mcp.NewRegistry()
	t.Cleanup(func() { require.NoError(t, reg.Close()) })
	require.NoError(t, reg.Connect(testContext(t), "proc", tr))
	// A message over the cap breaks the session (that is what a cap does);
	// the call is unavailable and the next one gets a new session.
	res := call(t, reg, "proc/big", `{"n":100000}`, grant("*"))
	require.Equal(t, tool.StatusUnavailable, res.Status, "%s", res.Content)
	res = call(t, reg, "proc/echo", `{"text":"after"}`, grant("*"))
	require.Equal(t, tool.StatusOK, res.Status, "%s", res.Content)
}

// TestStdioCloseEndsTheServer closes the runtime (which closes the
// registry) with a stdio server that behaves in each of the ways servers
// in the field do when their stdin closes. Exiting — on its own or when
// asked with SIGTERM — is a normal end, and Close returns nil; only a
// server that had to be killed, or exited with a failure of its own, is
// an error.
func TestStdioCloseEndsTheServer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mode      string
		terminate time.Duration
		wantErr   []string
	}{
		{"exits when its stdin closes", serveStdio, 2 * time.Second, nil},
		// SIGTERM is the shutdown's second step, not a failure: the field
		// report saw "signal: terminated" from Close here.
		// The wait before SIGTERM is spent in full (the server lingers); the
		// one after it must cover a loaded machine scheduling the exit.
		{"exits on SIGTERM", serveLinger, 2 * time.Second, nil},
		{"ignores SIGTERM", serveStubborn, 100 * time.Millisecond, []string{`close server "proc"`, "did not exit", "killed"}},
		{"exits with a failure", serveFail, 2 * time.Second, []string{`close server "proc"`, "exit status 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			tr := selfServerMode(t, tc.mode)
			tr.TerminateDuration = tc.terminate
			reg := mcp.NewRegistry()
			require.NoError(t, reg.Connect(testContext(t), "proc", tr))
			rt, err := caxton.New(caxton.WithToolbox(reg))
			require.NoError(t, err)
			require.Equal(t, tool.StatusOK, call(t, reg, "proc/echo", `{"text":"x"}`, grant("*")).Status)

			err = rt.Close(testContext(t))
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.wantErr {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestStdioCommandNotFound(t *testing.T) {
	noLeaks(t)
	reg := mcp.NewRegistry()
	defer reg.Close()
	err := reg.Connect(testContext(t), "ghost", mcp.Command("/nonexistent/mcp-server"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no such file")
}

// assertEventually polls cond, for state that settles asynchronously.
func assertEventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling, not waiting for time to pass
	}
}

// Shutdown bounds closing by a context: a server that ignores SIGTERM holds
// Close until it is killed, but Shutdown returns when its context ends —
// the registry already closed for calls — and the server is still killed
// in the background (noLeaks checks it goes).
func TestShutdownReturnsWhenItsContextEnds(t *testing.T) {
	noLeaks(t)
	tr := selfServerMode(t, serveStubborn)
	tr.TerminateDuration = time.Second
	reg := mcp.NewRegistry()
	require.NoError(t, reg.Connect(testContext(t), "proc", tr))
	require.Equal(t, tool.StatusOK, call(t, reg, "proc/echo", `{"text":"x"}`, grant("*")).Status)

	ctx, cancel := context.WithCancelCause(testContext(t))
	cancel(errors.New("the deployment's grace period is over"))
	err := reg.Shutdown(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "grace period")
	assert.Equal(t, tool.StatusUnavailable, call(t, reg, "proc/echo", `{"text":"x"}`, grant("*")).Status, "closed for calls at once")
	assert.NoError(t, reg.Close(), "closing again is a no-op")
}
