package caxton_test

// Benchmarks of WebAssembly agents on the bus. Figures and the command are in
// BENCHMARKS.md.

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton/internal/sandboxbench"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
)

func mustRead(b *testing.B, path string) []byte {
	code, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return code
}

// BenchmarkWasmThroughput streams messages from the host through a C echo
// agent whose replies go to a native sink: the amortised cost of one
// message into (and out of) a sandboxed agent under load. It runs with the
// spec's defaults (batch 64, mailbox 1024) and tuned for throughput (batch
// 256, mailbox 4096), so BENCHMARKS.md can say what a user must set.
func BenchmarkWasmThroughput(b *testing.B) {
	code := mustRead(b, "guest/c/agents/echo.wasm")
	for _, cfg := range []struct {
		name             string
		batch, mailboxes int
	}{{"defaults", 0, 0}, {"batch=256,mailbox=4096", 256, 4096}} {
		for _, replicas := range []int{1, 2} {
			b.Run(cfg.name+"/replicas="+strconv.Itoa(replicas), func(b *testing.B) {
				rt := newBenchRuntime(b)
				ctx := context.Background()
				done := make(chan struct{})
				var n atomic.Int64
				target := int64(b.N)
				if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "sink", MailboxCapacity: cfg.mailboxes, Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
					if n.Add(1) == target {
						close(done)
					}
					return nil
				})}); err != nil {
					b.Fatal(err)
				}
				if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Replicas: replicas, Balance: caxton.BalanceRoundRobin,
					MailboxCapacity: cfg.mailboxes, BatchSize: cfg.batch, Wasm: &caxton.WasmSpec{Module: code}}); err != nil {
					b.Fatal(err)
				}
				to := []acl.AgentID{"echo"}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: to, ReplyTo: "sink", Content: []byte("x")}); err != nil {
						b.Fatal(err)
					}
				}
				<-done
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// BenchmarkWasmSpawn is the start of a C agent through the public API,
// Runtime.Spawn, with its module compiled before (the engine's cache): what
// a user pays per agent. Beside it, in the same run, the sandbox's own
// Instantiate (a breakdown of the same work) and raw wasmtime-go — a store,
// the instance, its _initialize — the engine's own cost for this module.
// Each reports p50, p99 and the mean.
func BenchmarkWasmSpawn(b *testing.B) {
	code := mustRead(b, "guest/c/agents/echo.wasm")
	const perRuntime = 1000 // a fresh runtime per thousand agents, outside the timer
	b.Run("caxton-spawn", func(b *testing.B) {
		ctx := context.Background()
		cache := b.TempDir()
		var rt *caxton.Runtime
		lat := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%perRuntime == 0 {
				b.StopTimer()
				if rt != nil {
					_ = rt.Close(ctx)
				}
				var err error
				if rt, err = caxton.New(caxton.WithSandboxCacheDir(cache)); err != nil {
					b.Fatal(err)
				}
				// The first agent compiles (or loads) the module: not timed.
				if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "warm", Wasm: &caxton.WasmSpec{Module: code}}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			start := time.Now()
			if err := rt.Spawn(ctx, caxton.AgentSpec{Name: acl.AgentID("echo-" + strconv.Itoa(i)), Wasm: &caxton.WasmSpec{Module: code}}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		_ = rt.Close(ctx)
		reportPercentiles(b, lat)
	})
	b.Run("sandbox-instantiate", func(b *testing.B) {
		e, err := sandbox.NewEngine()
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		m, err := e.Compile(context.Background(), code)
		if err != nil {
			b.Fatal(err)
		}
		benchInstantiate(b, func() (func(), error) {
			in, err := m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "a"})
			if err != nil {
				return nil, err
			}
			return func() { in.Close() }, nil
		})
	})
	b.Run("wasmtime-raw", func(b *testing.B) {
		cfg := wasmtime.NewConfig()
		cfg.SetEpochInterruption(true) // as the sandbox's engine: the same compiled code
		cfg.SetConsumeFuel(true)
		eng := wasmtime.NewEngineWithConfig(cfg)
		defer eng.Close()
		mod, err := wasmtime.NewModule(eng, code)
		if err != nil {
			b.Fatal(err)
		}
		defer mod.Close()
		linker := wasmtime.NewLinker(eng)
		defer linker.Close()
		benchInstantiate(b, func() (func(), error) {
			store := wasmtime.NewStore(eng)
			store.SetEpochDeadline(1 << 30)
			if err := store.SetFuel(1 << 40); err != nil {
				return nil, err
			}
			inst, err := linker.Instantiate(store, mod)
			if err != nil {
				return nil, err
			}
			if _, err := inst.GetFunc(store, "_initialize").Call(store); err != nil {
				return nil, err
			}
			return store.Close, nil
		})
	})
}

// benchInstantiate times start (not the returned release) b.N times.
func benchInstantiate(b *testing.B, start func() (release func(), err error)) {
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		release, err := start()
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		b.StopTimer()
		release()
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkWasmBatchCall measures the sandbox alone: one call into the C
// echo agent with a batch of 256 messages, reported per message.
func BenchmarkWasmBatchCall(b *testing.B) {
	e, err := sandbox.NewEngine()
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	m, err := e.Compile(context.Background(), mustRead(b, "guest/c/agents/echo.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	in, err := m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "echo"})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	sandboxbench.BatchCall(b, in)
}

// BenchmarkWasmRequestReply is one host Request into a wasm agent and its
// reply, end to end.
func BenchmarkWasmRequestReply(b *testing.B) {
	for _, g := range []struct{ name, file string }{{"c", "guest/c/agents/echo.wasm"}} {
		b.Run(g.name, func(b *testing.B) {
			rt := newBenchRuntime(b)
			ctx := context.Background()
			if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Wasm: &caxton.WasmSpec{Module: mustRead(b, g.file)}}); err != nil {
				b.Fatal(err)
			}
			benchRequests(b, rt, "echo", []byte("x"))
		})
	}
}

// BenchmarkWasmInstantiate is the start of one agent instance with its
// module already compiled: a C agent, and a Go agent (whose runtime
// initialisation runs in _initialize).
func BenchmarkWasmInstantiate(b *testing.B) {
	guests := map[string]func(b *testing.B) []byte{
		"c":  func(b *testing.B) []byte { return mustRead(b, "guest/c/agents/echo.wasm") },
		"go": func(b *testing.B) []byte { return testguest.Build(b, "echo") },
	}
	for _, name := range []string{"c", "go"} {
		b.Run(name, func(b *testing.B) {
			e, err := sandbox.NewEngine(sandbox.WithCacheDir(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			m, err := e.Compile(context.Background(), guests[name](b))
			if err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				in, err := m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "a"})
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				b.StopTimer()
				in.Close()
				b.StartTimer()
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}
