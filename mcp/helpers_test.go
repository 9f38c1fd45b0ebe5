package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/require"
)

// bound is the safety net of every wait in these tests: generous, because
// a cold first go test ./... on 2 cores can stall a subprocess server's
// start for seconds (10 s was reached once there); nothing waits for it.
const bound = time.Minute

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	t.Cleanup(cancel)
	return ctx
}

// grant allows the given tools, with defaults for everything else.
func grant(allow ...string) tool.Grant { return tool.Grant{Allow: allow} }

// call makes a call as agent "a1".
func call(t *testing.T, reg *mcp.Registry, name, args string, g tool.Grant) tool.Result {
	t.Helper()
	return reg.CallTool(testContext(t), tool.Call{Agent: "a1", Tool: name, Arguments: json.RawMessage(args), Grant: g})
}

// lastAudit returns the newest audit record.
func lastAudit(t *testing.T, reg *mcp.Registry) mcp.AuditRecord {
	t.Helper()
	recs := reg.Audit()
	require.NotEmpty(t, recs)
	return recs[len(recs)-1]
}

// noLeaks fails the test if, once it has cleaned up, goroutines started
// during it are still running code of this package, the go-sdk or os/exec,
// or if this process still has child processes (zombies included: a
// reaped child is gone). Register it first, so it runs last.
func noLeaks(t *testing.T) {
	t.Helper()
	before := goroutineIDs()
	t.Cleanup(func() {
		deadline := time.Now().Add(bound)
		for {
			leaked := leakedGoroutines(before)
			kids := children()
			if len(leaked) == 0 && len(kids) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("leaked %d goroutine(s) and child processes %v:\n%s", len(leaked), kids, strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for time to pass
		}
	})
}

func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func goroutineID(stack string) string {
	f := strings.Fields(stack)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

func goroutineIDs() map[string]bool {
	ids := make(map[string]bool)
	for _, s := range goroutineStacks() {
		ids[goroutineID(s)] = true
	}
	return ids
}

func leakedGoroutines(before map[string]bool) []string {
	var out []string
	for _, s := range goroutineStacks() {
		if before[goroutineID(s)] {
			continue
		}
		if strings.Contains(s, "modelcontextprotocol/go-sdk") || strings.Contains(s, "caxton/mcp.") || strings.Contains(s, "os/exec.") {
			out = append(out, s)
		}
	}
	return out
}

// children lists the pids of this process's children (Linux /proc; none
// elsewhere).
func children() []int {
	me := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may contain spaces and parens.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == me {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			out = append(out, pid)
		}
	}
	return out
}

// recordingHook collects audit records from the hook.
type recordingHook struct {
	recs chan mcp.AuditRecord
}

func newRecordingHook() *recordingHook { return &recordingHook{recs: make(chan mcp.AuditRecord, 1000)} }

func (h *recordingHook) hook(r mcp.AuditRecord) { h.recs <- r }

func (h *recordingHook) all() []mcp.AuditRecord {
	var out []mcp.AuditRecord
	for {
		select {
		case r := <-h.recs:
			out = append(out, r)
		default:
			return out
		}
	}
}
