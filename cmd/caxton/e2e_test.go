package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/server"
)

const (
	e2eAdmin  = "e2e-admin-token-0123456789"
	e2eViewer = "e2e-viewer-token-0123456789"
)

// buildCaxton builds this command into a temporary directory.
func buildCaxton(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "caxton")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// daemon is a running `caxton serve`.
type daemon struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

// startServer runs `caxton serve --config cfg` and waits until it is ready.
func startServer(t *testing.T, bin, cfg string) *daemon {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfg)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	d := &daemon{cmd: cmd, logs: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{w: d.logs}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(2 * time.Minute) // a safety net: a cold machine compiles the guests
	for {
		select {
		case line, ok := <-lines:
			require.Truef(t, ok, "the server exited: %s", d.logs)
			if a, ok := strings.CutPrefix(line, "caxton: serving on "); ok {
				d.addr = a
			}
			if strings.HasPrefix(line, "caxton: ready") {
				go func() { // drain
					for range lines {
					}
				}()
				return d
			}
		case <-timeout:
			t.Fatalf("the server did not get ready: %s", d.logs)
		}
	}
}

// awaitEvent watches the server's lifecycle events of agent (connected
// when it returns) and closes the returned channel at the first of kind.
func (d *daemon) awaitEvent(t *testing.T, agent, kind string) <-chan struct{} {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", d.addr+"/v1/events?agent="+agent, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e2eViewer)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	seen := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var ev server.EventView
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && json.Unmarshal([]byte(data), &ev) == nil && ev.Kind == kind {
				close(seen)
				return
			}
		}
	}()
	return seen
}

// lockedWriter lets the server's stderr be written by exec's copier and
// read by a failing test.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// cli runs a verb against the server and returns stdout and the exit code.
func cli(t *testing.T, bin string, d *daemon, token string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "CAXTON_SERVER="+d.addr, "CAXTON_TOKEN="+token)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	t.Logf("caxton %s → %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return out.String(), code
}

// must runs a verb that must succeed.
func must(t *testing.T, bin string, d *daemon, args ...string) string {
	t.Helper()
	out, code := cli(t, bin, d, e2eAdmin, args...)
	require.Equalf(t, exitOK, code, "caxton %v", args)
	return out
}

func agentJSON(t *testing.T, bin string, d *daemon, name string) server.AgentStatus {
	t.Helper()
	var st server.AgentStatus
	require.NoError(t, json.Unmarshal([]byte(must(t, bin, d, "status", name, "--json")), &st))
	return st
}

// TestServerEndToEnd builds the binary, serves on 127.0.0.1 with a
// temporary data directory, and drives it with the real CLI: deploy a C
// and a Go agent, request, scale, upgrade blue-green, roll back a bad
// version, read logs, replay a dead letter, kill -9 and restart with
// nothing lost.
func TestServerEndToEnd(t *testing.T) {
	bin := buildCaxton(t)
	dir := t.TempDir()
	boot := filepath.Join(dir, "boot")
	require.NoError(t, os.MkdirAll(boot, 0o700))
	echo, err := os.ReadFile("../../guest/c/agents/echo.wasm")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(boot, "greeter.wasm"), echo, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(boot, "greeter.json"), []byte(`{"name":"greeter","replicas":2}`), 0o600))
	cfg := filepath.Join(dir, "caxton.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`
listen: 127.0.0.1:0
data_dir: %s
deploy_dir: %s
mcp: true
tokens:
  - {token: %q, subject: alice, role: admin}
  - {token: %q, subject: victor, role: viewer}
`, filepath.Join(dir, "data"), boot, e2eAdmin, e2eViewer)), 0o600))
	d := startServer(t, bin, cfg)

	// The MCP face takes the same tokens: refused without one or with a
	// viewer's, served to an admin.
	initMCP := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`
	for tok, want := range map[string]int{"": http.StatusUnauthorized, e2eViewer: http.StatusForbidden, e2eAdmin: http.StatusOK} {
		req, err := http.NewRequestWithContext(t.Context(), "POST", d.addr+"/mcp", strings.NewReader(initMCP))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equalf(t, want, resp.StatusCode, "/mcp with %q", tok)
	}

	// The deploy directory's agent, deployed at start.
	assert.Regexp(t, `greeter\s+running\s+v1\s+2`, must(t, bin, d, "list"))
	assert.Equal(t, "hi\n", must(t, bin, d, "request", "greeter", "hi"))
	must(t, bin, d, "scale", "greeter", "--replicas", "1") // the state, not the directory, decides after this

	// A C agent and a Go agent.
	must(t, bin, d, "deploy", "../../guest/c/agents/echo.wasm")
	must(t, bin, d, "deploy", "../../examples/quickstart/warranty/warranty.wasm", "--name", "warranty")
	assert.Equal(t, "hello\n", must(t, bin, d, "request", "echo", "hello"))
	assert.Equal(t, "pro devices: 24 months, including accidental damage\n", must(t, bin, d, "request", "warranty", "pro laptop"))
	assert.Contains(t, must(t, bin, d, "logs", "warranty", "--since", "1h"), "checking warranty for pro laptop")

	assert.Contains(t, must(t, bin, d, "scale", "echo", "--replicas", "3"), "3 replica(s)")
	list := must(t, bin, d, "list")
	assert.Regexp(t, `echo\s+running\s+v1\s+3`, list)
	assert.Regexp(t, `warranty\s+running\s+v1\s+1`, list)

	// Blue-green upgrade, then a bad version: promoted, it traps; its
	// request is dead-lettered (exit 7), rolled back, replayed.
	must(t, bin, d, "deploy", "../../examples/upgrade/guests/quote-v1.wasm", "--name", "quote")
	assert.Equal(t, "quote v1: 100 EUR\n", must(t, bin, d, "request", "quote", "price?"))
	assert.Contains(t, must(t, bin, d, "upgrade", "quote", "../../examples/upgrade/guests/quote-v2.wasm", "--strategy", "blue-green", "--version", "v2"), "now v2")
	assert.Equal(t, "quote v2: 90 EUR\n", must(t, bin, d, "request", "quote", "price?"))
	must(t, bin, d, "upgrade", "quote", "../../examples/upgrade/guests/quote-v3.wasm", "--version", "v3")
	_, code := cli(t, bin, d, e2eAdmin, "request", "quote", "price?", "--timeout", "30s")
	require.Equal(t, exitNoAnswer, code)
	var dls []server.DeadLetterView
	require.NoError(t, json.Unmarshal([]byte(must(t, bin, d, "dlq", "list", "--json")), &dls))
	require.Len(t, dls, 1)
	assert.Contains(t, must(t, bin, d, "rollback", "quote"), "version v2")
	assert.Equal(t, "v2", agentJSON(t, bin, d, "quote").Version)
	assert.Contains(t, must(t, bin, d, "dlq", "replay", dls[0].ID), "replayed 1")
	assert.Equal(t, "quote v2: 90 EUR\n", must(t, bin, d, "request", "quote", "price?"))
	// A bad upgrade with a watch window rolls back by itself when it
	// crashes: exit 6, still v2.
	started := d.awaitEvent(t, "quote", "upgrade started")
	done := make(chan int, 1)
	go func() {
		_, code := cli(t, bin, d, e2eAdmin, "upgrade", "quote", "../../examples/upgrade/guests/quote-v3.wasm", "--version", "v3b", "--watch", "1m")
		done <- code
	}()
	select { // v3b is ready beside v2
	case <-started:
	case <-time.After(2 * time.Minute): // a safety net
		t.Fatal("the upgrade did not start")
	}
	assert.Equal(t, "quote v2: 90 EUR\n", must(t, bin, d, "request", "quote", "price?"))
	assert.Equal(t, exitConflict, <-done)
	assert.Equal(t, "v2", agentJSON(t, bin, d, "quote").Version)

	// Viewers read and cannot act; unknown agents are exit 5.
	_, code = cli(t, bin, d, e2eViewer, "list")
	assert.Equal(t, exitOK, code)
	_, code = cli(t, bin, d, e2eViewer, "stop", "echo")
	assert.Equal(t, exitDenied, code)
	_, code = cli(t, bin, d, e2eAdmin, "status", "nobody")
	assert.Equal(t, exitNotFound, code)
	_, code = cli(t, bin, d, e2eAdmin, "scale", "echo")
	assert.Equal(t, exitUsage, code)

	// The WebSocket gateway, through `caxton join`: the CLI joins as
	// "desk", gets a message sent to it, sends a request as itself (a line
	// of its stdin, in the simplified JSON form) and gets echo's reply.
	// Away, messages to desk wait; the next join gets them.
	j := startJoin(t, bin, d, "desk", "2")
	must(t, bin, d, "send", "desk", "hello desk")
	_, err = io.WriteString(j.stdin, `{"type":"request","to":"echo","content":{"q":"from desk"},"reply_with":"r1"}`+"\n")
	require.NoError(t, err)
	msgs := j.wait(t)
	require.Len(t, msgs, 2)
	bySender := map[string]map[string]any{}
	for _, m := range msgs {
		bySender[m["sender"].(string)] = m
	}
	require.Contains(t, bySender, "host", "%v", msgs)
	require.Contains(t, bySender, "echo", "%v", msgs)
	assert.Equal(t, "hello desk", bySender["host"]["content"])
	assert.JSONEq(t, `{"q":"from desk"}`, bySender["echo"]["content"].(string), "echo's reply to desk")
	assert.Equal(t, "r1", bySender["echo"]["in_reply_to"])
	assert.Equal(t, "stopped", agentJSON(t, bin, d, "desk").State, "away: stopped, its mailbox kept")
	must(t, bin, d, "send", "desk", "while you were out")
	j = startJoin(t, bin, d, "desk", "1")
	msgs = j.wait(t)
	require.Len(t, msgs, 1)
	assert.Equal(t, "while you were out", msgs[0]["content"])
	_, code = cli(t, bin, d, e2eViewer, "join", "desk", "--count", "1")
	assert.Equal(t, exitDenied, code, "viewers do not join")
	_, code = cli(t, bin, d, e2eAdmin, "join", "echo", "--count", "1")
	assert.Equal(t, exitConflict, code, "a deployed agent's name is taken")

	// Messages for a stopped agent wait on disk; a dead letter too. Then
	// kill -9, restart: agents, versions, replicas, the queue and the dead
	// letter are all there.
	must(t, bin, d, "stop", "echo")
	for i := range 5 {
		must(t, bin, d, "send", "echo", fmt.Sprintf("queued %d", i))
	}
	must(t, bin, d, "deploy", "../../guest/c/agents/echo.wasm", "--name", "doomed")
	must(t, bin, d, "stop", "doomed")
	must(t, bin, d, "send", "doomed", "last words")
	must(t, bin, d, "remove", "doomed") // its queued message is dead-lettered
	require.NoError(t, json.Unmarshal([]byte(must(t, bin, d, "dlq", "list", "--json")), &dls))
	require.Len(t, dls, 1)
	assert.Equal(t, 5, agentJSON(t, bin, d, "echo").QueueDepth)

	require.NoError(t, d.cmd.Process.Kill()) // SIGKILL: no shutdown at all
	_ = d.cmd.Wait()
	d = startServer(t, bin, cfg)

	var agents []server.AgentStatus
	require.NoError(t, json.Unmarshal([]byte(must(t, bin, d, "list", "--json")), &agents))
	got := map[string]server.AgentStatus{}
	for _, a := range agents {
		got[a.Name] = a
	}
	require.Len(t, got, 4, "echo, warranty, quote, greeter")
	assert.Equal(t, 1, got["greeter"].Replicas, "restored from the state, not deployed again from the directory")
	assert.Equal(t, "stopped", got["echo"].State)
	assert.Equal(t, 3, got["echo"].Replicas)
	assert.Equal(t, "v2", got["quote"].Version)
	assert.Equal(t, "quote v2: 90 EUR\n", must(t, bin, d, "request", "quote", "price?"))
	var after []server.DeadLetterView
	require.NoError(t, json.Unmarshal([]byte(must(t, bin, d, "dlq", "list", "--json")), &after))
	require.Len(t, after, 1)
	assert.Equal(t, dls[0].ID, after[0].ID)
	must(t, bin, d, "start", "echo")
	// The five queued messages are handled after the crash. (Processing
	// has no event; this polls the counter, bounded by the test's timeout.)
	for agentJSON(t, bin, d, "echo").Processed < 5 {
	}
	assert.Contains(t, must(t, bin, d, "dlq", "purge", "--all"), "purged 1")

	// SIGTERM: a graceful stop.
	require.NoError(t, d.cmd.Process.Signal(os.Interrupt))
	require.NoError(t, d.cmd.Wait())
}

func TestHelpAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, exitOK, run(t.Context(), []string{"help"}, &out, &errb))
	assert.Contains(t, out.String(), "Exit codes")
	for name := range verbs {
		out.Reset()
		errb.Reset()
		assert.Equalf(t, exitOK, run(t.Context(), []string{name, "--help"}, &out, &errb), "%s --help", name)
		assert.Containsf(t, errb.String(), "usage: caxton "+name, "%s --help", name)
	}
	assert.Equal(t, exitOK, run(t.Context(), []string{"serve", "--help"}, &out, &errb))
	assert.Equal(t, exitUsage, run(t.Context(), []string{"frobnicate"}, &out, &errb))
	assert.Equal(t, exitUsage, run(t.Context(), []string{"scale", "a", "b"}, &out, &errb))
	assert.Equal(t, exitUnreachable, run(t.Context(), []string{"list", "--server", "http://127.0.0.1:1"}, &out, &errb))

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("data_dir: x\nlisen: oops\n"), 0o600))
	errb.Reset()
	assert.Equal(t, exitUsage, run(t.Context(), []string{"serve", "--config", bad}, &out, &errb))
	assert.Contains(t, errb.String(), "lisen")

	for _, tc := range []struct{ yaml, want string }{
		{"data_dir: x\n", "tokens or jwt"},
		{"data_dir: x\njwt: {issuer: i}\n", "jwks_file or jwks_url"},
		{"data_dir: x\njwt: {jwks_file: k.json, jwks_url: \"https://idp/jwks\"}\n", "jwks_file or jwks_url"},
		{"data_dir: x\njwt: {jwks_url: \"http://idp.example/jwks\"}\n", "jwt.jwks_url"},
		{"tokens: [{token: abcdefghijklmnopq, subject: a, role: admin}]\n", "data_dir"},
		{"data_dir: x\ntokens: [{token: short, subject: a, role: admin}]\n", "tokens[0].token"},
		{"data_dir: x\ntokens: [{token: abcdefghijklmnopq, subject: a, role: root}]\n", "root"},
	} {
		require.NoError(t, os.WriteFile(bad, []byte(tc.yaml), 0o600))
		errb.Reset()
		assert.Equalf(t, exitUsage, run(t.Context(), []string{"serve", "--config", bad}, &out, &errb), "%s", tc.yaml)
		assert.Containsf(t, errb.String(), tc.want, "%s", tc.yaml)
	}
}

// joinProc is a running `caxton join NAME --json`.
type joinProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bytes.Buffer
	errb  *lockedWriter
}

// startJoin runs `caxton join name --count n --json` and returns once it
// has joined.
func startJoin(t *testing.T, bin string, d *daemon, name, n string) *joinProc {
	t.Helper()
	cmd := exec.Command(bin, "join", name, "--count", n, "--json")
	cmd.Env = append(os.Environ(), "CAXTON_SERVER="+d.addr, "CAXTON_TOKEN="+e2eAdmin)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	j := &joinProc{cmd: cmd, stdin: stdin, out: &bytes.Buffer{}, errb: &lockedWriter{w: &bytes.Buffer{}}}
	cmd.Stdout = j.out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	joined := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			_, _ = j.errb.Write(append(sc.Bytes(), '\n'))
			if strings.HasPrefix(sc.Text(), "caxton: joined as ") {
				close(joined)
			}
		}
	}()
	select {
	case <-joined:
	case <-time.After(2 * time.Minute): // a safety net
		t.Fatalf("caxton join did not join: %s", j.errb.w)
	}
	return j
}

// wait waits for the join to leave (its count reached) and returns the
// messages it printed.
func (j *joinProc) wait(t *testing.T) []map[string]any {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- j.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "%s", j.errb.w)
	case <-time.After(2 * time.Minute): // a safety net
		t.Fatalf("caxton join did not finish: %s", j.errb.w)
	}
	_ = j.stdin.Close()
	var msgs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(j.out.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "%s", line)
		msgs = append(msgs, m)
	}
	return msgs
}
