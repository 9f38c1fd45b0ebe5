// Command idleagents measures the resident memory of many live, idle
// WebAssembly agents: it spawns N copies of the C echo agent (each its own
// instance and store), sends each one message so every instance has really
// run, and reports the growth of the process's resident set. -wasm names
// another agent: a module, a JavaScript agent (a file ending in .js) or a
// Python agent (.py).
//
//	go run ./bench/idleagents -n 10000
//	go run ./bench/idleagents -n 1000 -wasm guest/js/agents/echo.js
//	go run ./bench/idleagents -n 200 -wasm guest/python/agents/echo.py
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

func main() {
	n := flag.Int("n", 10000, "number of agents")
	wasm := flag.String("wasm", "guest/c/agents/echo.wasm", "the agent to spawn: a module, or a script ending in .js or .py")
	flag.Parse()
	if err := run(os.Stdout, *n, *wasm); err != nil {
		fmt.Fprintln(os.Stderr, "idleagents:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, n int, wasm string) error {
	code, err := os.ReadFile(wasm)
	if err != nil {
		return err
	}
	spec := func() *caxton.WasmSpec { return &caxton.WasmSpec{Module: code} }
	switch {
	case strings.HasSuffix(wasm, ".js"):
		spec = func() *caxton.WasmSpec { return &caxton.WasmSpec{JavaScript: string(code)} }
	case strings.HasSuffix(wasm, ".py"):
		spec = func() *caxton.WasmSpec { return &caxton.WasmSpec{Python: string(code)} }
	}
	ctx := context.Background()
	rt, err := caxton.New()
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	// Compile once and settle before the baseline, so the figure is the
	// agents' own cost, not the engine's or the compiled code's.
	if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "warmup", Wasm: spec()}); err != nil {
		return err
	}
	before, err := rss()
	if err != nil {
		return err
	}
	start := time.Now()
	for i := range n {
		if err := rt.Spawn(ctx, caxton.AgentSpec{Name: acl.AgentID("agent-" + strconv.Itoa(i)), Wasm: spec()}); err != nil {
			return fmt.Errorf("spawn %d: %w", i, err)
		}
	}
	spawned := time.Since(start)
	sink, err := rt.NewInbox("sink")
	if err != nil {
		return err
	}
	for i := range n {
		m := &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{acl.AgentID("agent-" + strconv.Itoa(i))}, ReplyTo: "sink", Content: []byte("ping")}
		if err := rt.Send(ctx, m); err != nil {
			return err
		}
		if _, err := sink.Receive(ctx); err != nil { // keep the sink from filling up
			return err
		}
	}
	runtime.GC()
	after, err := rss()
	if err != nil {
		return err
	}
	delta := after - before
	fmt.Fprintf(w, "agents=%d spawn_total=%v spawn_each=%v rss_before=%.1fMiB rss_after=%.1fMiB rss_delta=%.1fMiB per_agent=%.1fKiB goroutines=%d\n",
		n, spawned.Round(time.Millisecond), (spawned / time.Duration(max(n, 1))).Round(time.Microsecond),
		mib(before), mib(after), mib(delta), float64(delta)/1024/float64(max(n, 1)), runtime.NumGoroutine())
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// rss reads the resident set size from /proc/self/status (Linux).
func rss() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}
