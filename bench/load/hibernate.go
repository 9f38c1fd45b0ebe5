package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
)

// sleepCount counts hibernations and wakes (the runtime's event hook).
type sleepCount struct{ slept, woke atomic.Int64 }

func (s *sleepCount) count(e caxton.Event) {
	switch e.Kind {
	case caxton.EventHibernated:
		s.slept.Add(1)
	case caxton.EventWoke:
		s.woke.Add(1)
	}
}

// asleep is how many instances are hibernated now.
func (s *sleepCount) asleep() int64 { return s.slept.Load() - s.woke.Load() }

// picker returns how the senders choose an agent: uniformly over all, or,
// with -active, over that many agents spread evenly over all (so the C
// guests' share of them is -wasm-fraction), but for -cold of the messages,
// which go to any agent and are reported as cold.
func picker(c config) func(r *rand.Rand) (to int, cold bool) {
	if c.Active == 0 {
		return func(r *rand.Rand) (int, bool) { return r.IntN(c.Agents), false }
	}
	return func(r *rand.Rand) (int, bool) {
		if c.ColdShare > 0 && r.Float64() < c.ColdShare {
			return r.IntN(c.Agents), true
		}
		return r.IntN(c.Active) * c.Agents / c.Active, false
	}
}

// warm sends one request to every C guest, 256 at a time, so each has run
// and built its state; with -hibernate it then waits until every one has
// hibernated and reports the resident memory.
func warm(ctx context.Context, w io.Writer, rt *caxton.Runtime, c config, guests []acl.AgentID, sleep *sleepCount, res *result) error {
	start := time.Now()
	sem := make(chan struct{}, 256)
	var failed atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for _, name := range guests {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			rctx, cancel := context.WithTimeout(ctx, c.Drain)
			defer cancel()
			if _, err := rt.Request(rctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{name}, Content: []byte("warm")}); err != nil {
				failed.Add(1)
				first.CompareAndSwap(nil, &err)
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("warm-up: %d of %d requests failed, the first with: %w", n, len(guests), *first.Load())
	}
	fmt.Fprintf(w, "warm-up: %d C guests answered in %v\n", len(guests), time.Since(start).Round(time.Millisecond))
	if c.Hibernate == 0 {
		return nil
	}
	deadline := time.Now().Add(2*c.Hibernate + c.Drain)
	for sleep.asleep() < int64(len(guests)) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Twice: objects behind wasmtime-go's finalizers (closed instances'
	// stores) are freed by the second collection; then give the freed
	// pages back, as the scavenger would in a while, and the C allocator's
	// free pages, as the sandbox does after a fall of live instances, so
	// RSS is what the sleeping agents hold.
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	auto, _ := rss() // with the sandbox's own releases only
	sandbox.ReleaseNativeMemory()
	mem, _ := rss()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "hibernated=%d of %d after %v: rss=%.1fMiB (%.2f KiB per agent, spawn included) go_heap=%.1fMiB\n",
		sleep.asleep(), len(guests), time.Since(start).Round(time.Millisecond), mib(mem), float64(mem)/1024/float64(c.Agents), mib(int64(ms.HeapAlloc)))
	// Where the RSS is: the Go heap's live objects, the spans that hold
	// them (the difference is fragmentation), what Go keeps from the OS
	// altogether, and the rest (wasmtime's stores, pools and code).
	goResident := int64(ms.Sys - ms.HeapReleased)
	fmt.Fprintf(w, "  rss before an explicit sandbox.ReleaseNativeMemory: %.1fMiB\n", mib(auto))
	fmt.Fprintf(w, "  rss: go_heap_spans=%.1fMiB go_resident=%.1fMiB (stacks %.1fMiB) outside_go=%.1fMiB\n",
		mib(int64(ms.HeapInuse)), mib(goResident), mib(int64(ms.StackInuse)), mib(mem-goResident))
	if sleep.asleep() < int64(len(guests)) {
		return fmt.Errorf("warm-up: only %d of %d C guests hibernated within %v", sleep.asleep(), len(guests), 2*c.Hibernate+c.Drain)
	}
	res.RSSSpawned = mem
	record(c.MemProfile, pprof.WriteHeapProfile)
	return nil
}
