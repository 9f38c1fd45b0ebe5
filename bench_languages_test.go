package caxton_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/caxton-go/caxton/internal/sandboxbench"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/guest/python"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
)

// langEcho is the echo agent of one guest language: the spec that spawns
// it, and the module and init data (a script) that make an instance.
type langEcho struct {
	name   string
	spec   func() *caxton.WasmSpec
	module []byte
	init   []byte
}

func langEchoes(b *testing.B) []langEcho {
	c := mustRead(b, "guest/c/agents/echo.wasm")
	goEcho := testguest.Build(b, "echo")
	script := mustRead(b, "guest/js/agents/echo.js")
	pyScript := mustRead(b, "guest/python/agents/echo.py")
	return []langEcho{
		{"c", func() *caxton.WasmSpec { return &caxton.WasmSpec{Module: c} }, c, nil},
		{"go", func() *caxton.WasmSpec { return &caxton.WasmSpec{Module: goEcho} }, goEcho, nil},
		{"js", func() *caxton.WasmSpec { return &caxton.WasmSpec{JavaScript: string(script)} }, js.Engine(), script},
		{"python", func() *caxton.WasmSpec { return &caxton.WasmSpec{Python: string(pyScript)} }, python.Engine(), pyScript},
	}
}

// BenchmarkLanguages compares the guest languages' echo agents in one run:
// start (Runtime.Spawn of one more agent, its module compiled before: for
// JavaScript and Python this includes loading the engine's prelude and
// the script),
// request → reply through the runtime, and the amortised cost of a message
// in a batch of 256 handed to one instance (the sandbox alone). Latencies
// report p50, p99 and the mean. Resident memory per idle agent is
// bench/idleagents's (-wasm guest/js/agents/echo.js for JavaScript,
// guest/python/agents/echo.py for Python).
func BenchmarkLanguages(b *testing.B) {
	for _, l := range langEchoes(b) {
		b.Run(l.name+"/start", func(b *testing.B) {
			ctx := context.Background()
			const perRuntime = 500 // a fresh runtime now and then, outside the timer
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
					if rt, err = caxton.New(caxton.WithSandboxCacheDir(moduleCache), caxton.WithJavaScript(js.Engine()), caxton.WithPython(python.Engine())); err != nil {
						b.Fatal(err)
					}
					if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "warm", Wasm: l.spec()}); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				t0 := time.Now()
				if err := rt.Spawn(ctx, caxton.AgentSpec{Name: acl.AgentID("echo-" + strconv.Itoa(i)), Wasm: l.spec()}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			_ = rt.Close(ctx)
			reportPercentiles(b, lat)
		})
		b.Run(l.name+"/request-reply", func(b *testing.B) {
			rt := newBenchRuntime(b)
			if err := rt.Spawn(context.Background(), caxton.AgentSpec{Name: "echo", Wasm: l.spec()}); err != nil {
				b.Fatal(err)
			}
			benchRequests(b, rt, "echo", []byte("x"))
		})
		b.Run(l.name+"/batch", func(b *testing.B) {
			e, err := sandbox.NewEngine(sandbox.WithCacheDir(moduleCache))
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			m, err := e.Compile(context.Background(), l.module)
			if err != nil {
				b.Fatal(err)
			}
			in, err := m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "echo", Init: l.init})
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			sandboxbench.BatchCall(b, in)
		})
	}
}
