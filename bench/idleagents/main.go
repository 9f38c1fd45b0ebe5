// Command idleagents measures the resident memory of many live, idle
// agents: it spawns N copies of the C echo agent (each its own instance and
// store), sends each one message so every instance has really run, and
// reports the growth of the process's resident set and Go heap, and the
// spawn rate. Beside the resident set it reports, where Linux gives
// /proc/self/smaps_rollup, the proportional set (pss) and the private
// pages: wasmtime maps a module's data segments copy-on-write from one
// shared image, so a page every instance reads but none writes is resident
// in each instance's mapping (the resident set counts it once per agent)
// while the machine holds it once. private_per_agent is what one more
// agent costs the machine; pss_per_agent adds its share of the shared
// pages. -wasm names another agent: a module, a JavaScript agent (a
// file ending in .js) or a Python agent (.py). -native spawns native Go echo
// agents instead, the million-agent row of the benchmarks:
//
//	go run ./bench/idleagents -n 10000
//	go run ./bench/idleagents -n 1000 -wasm guest/js/agents/echo.js
//	go run ./bench/idleagents -n 200 -wasm guest/python/agents/echo.py
//	go run ./bench/idleagents -native -n 1000000
package main

import (
	"bufio"
	"context"
	"errors"
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
	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/guest/python"
)

func main() {
	n := flag.Int("n", 10000, "number of agents")
	wasm := flag.String("wasm", "guest/c/agents/echo.wasm", "the agent to spawn: a module, or a script ending in .js or .py")
	native := flag.Bool("native", false, "spawn native Go echo agents instead of -wasm")
	flag.Parse()
	if *native {
		*wasm = ""
	}
	if err := run(os.Stdout, *n, *wasm); err != nil {
		fmt.Fprintln(os.Stderr, "idleagents:", err)
		os.Exit(1)
	}
}

// echo answers every message with an inform; one handler serves every
// native agent, as a host would share one.
var echo = caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
	return mc.Reply(ctx, acl.Inform, mc.Message().Content)
})

// run measures n agents of the module or script wasm, or native echo
// agents if wasm is empty.
func run(w io.Writer, n int, wasm string) error {
	agent := func(name acl.AgentID) caxton.AgentSpec { return caxton.AgentSpec{Name: name, Handler: echo} }
	if wasm != "" {
		code, err := os.ReadFile(wasm)
		if err != nil {
			return err
		}
		agent = func(name acl.AgentID) caxton.AgentSpec {
			return caxton.AgentSpec{Name: name, Wasm: &caxton.WasmSpec{Module: code}}
		}
		switch {
		case strings.HasSuffix(wasm, ".js"):
			agent = func(name acl.AgentID) caxton.AgentSpec {
				return caxton.AgentSpec{Name: name, Wasm: &caxton.WasmSpec{JavaScript: string(code)}}
			}
		case strings.HasSuffix(wasm, ".py"):
			agent = func(name acl.AgentID) caxton.AgentSpec {
				return caxton.AgentSpec{Name: name, Wasm: &caxton.WasmSpec{Python: string(code)}}
			}
		}
	}
	ctx := context.Background()
	rt, err := caxton.New(caxton.WithJavaScript(js.Engine()), caxton.WithPython(python.Engine()))
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	// Compile once and settle before the baseline, so the figure is the
	// agents' own cost, not the engine's or the compiled code's.
	if err := rt.Spawn(ctx, agent("warmup")); err != nil {
		return err
	}
	names := make([]acl.AgentID, n) // made before the baseline: the host's, not the agents' cost
	for i := range names {
		names[i] = acl.AgentID("agent-" + strconv.Itoa(i))
	}
	runtime.GC()
	before, err := readMemory()
	if err != nil {
		return err
	}
	heapBefore := heapInUse()
	start := time.Now()
	for i := range n {
		if err := rt.Spawn(ctx, agent(names[i])); err != nil {
			return fmt.Errorf("spawn %d: %w", i, err)
		}
	}
	spawned := time.Since(start)
	runtime.GC()
	heapSpawned := heapInUse()
	sink, err := rt.NewInbox("sink")
	if err != nil {
		return err
	}
	for i := range n {
		m := &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{names[i]}, ReplyTo: "sink", Content: []byte("ping")}
		if err := rt.Send(ctx, m); err != nil {
			return err
		}
		if _, err := sink.Receive(ctx); err != nil { // keep the sink from filling up
			return err
		}
	}
	runtime.GC()
	after, err := readMemory()
	if err != nil {
		return err
	}
	heapAfter := heapInUse()
	delta := after.rss - before.rss
	per := func(b int64) float64 { return float64(b) / 1024 / float64(max(n, 1)) }
	fmt.Fprintf(w, "agents=%d spawn_total=%v spawn_each=%v spawn_rate=%.0f/s rss_before=%.1fMiB rss_after=%.1fMiB rss_delta=%.1fMiB per_agent=%.2fKiB heap_per_agent_spawned=%.2fKiB heap_per_agent_after_message=%.2fKiB goroutines=%d\n",
		n, spawned.Round(time.Millisecond), (spawned / time.Duration(max(n, 1))).Round(10*time.Nanosecond),
		float64(n)/spawned.Seconds(), mib(before.rss), mib(after.rss), mib(delta), per(delta),
		per(heapSpawned-heapBefore), per(heapAfter-heapBefore), runtime.NumGoroutine())
	if before.shares && after.shares {
		fmt.Fprintf(w, "pss_per_agent=%.2fKiB private_per_agent=%.2fKiB shared_per_agent=%.2fKiB\n",
			per(after.pss-before.pss), per(after.private-before.private), per(after.shared-before.shared))
	}
	return nil
}

// heapInUse returns the bytes in in-use heap spans (after a GC: live
// objects plus their spans' slack), stacks excluded.
func heapInUse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// memory is the process's memory, in bytes: the resident set, and where
// the kernel says (shares) its proportional set and its private and shared
// resident pages.
type memory struct {
	rss, pss, private, shared int64
	shares                    bool
}

// readMemory reads /proc/self/smaps_rollup (Linux 4.14 and later), or
// only the resident set from /proc/self/status where there is no rollup.
func readMemory() (memory, error) {
	f, err := os.Open("/proc/self/smaps_rollup")
	if err != nil {
		r, err := rss()
		return memory{rss: r}, err
	}
	defer f.Close()
	m, err := parseRollup(f)
	if err != nil {
		return memory{}, fmt.Errorf("/proc/self/smaps_rollup: %w", err)
	}
	return m, nil
}

// parseRollup reads the fields of smaps_rollup that memory carries; Rss
// and Pss must be there.
func parseRollup(r io.Reader) (memory, error) {
	var m memory
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || fields[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("%s: %w", fields[0], err)
		}
		b := kb * 1024
		key := strings.TrimSuffix(fields[0], ":")
		seen[key] = true
		switch key {
		case "Rss":
			m.rss = b
		case "Pss":
			m.pss = b
		case "Private_Clean", "Private_Dirty":
			m.private += b
		case "Shared_Clean", "Shared_Dirty":
			m.shared += b
		}
	}
	if err := sc.Err(); err != nil {
		return memory{}, err
	}
	if !seen["Rss"] || !seen["Pss"] {
		return memory{}, errors.New("no Rss or Pss line")
	}
	m.shares = true
	return m, nil
}

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
