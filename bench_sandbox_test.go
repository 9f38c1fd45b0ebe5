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
// message into (and out of) a sandboxed agent under load.
func BenchmarkWasmThroughput(b *testing.B) {
	code := mustRead(b, "guest/c/agents/echo.wasm")
	for _, replicas := range []int{1, 2} {
		b.Run("replicas="+strconv.Itoa(replicas), func(b *testing.B) {
			rt := newBenchRuntime(b)
			ctx := context.Background()
			done := make(chan struct{})
			var n atomic.Int64
			target := int64(b.N)
			if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "sink", MailboxCapacity: 4096, Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
				if n.Add(1) == target {
					close(done)
				}
				return nil
			})}); err != nil {
				b.Fatal(err)
			}
			if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Replicas: replicas, Balance: caxton.BalanceRoundRobin,
				MailboxCapacity: 4096, BatchSize: 256, Wasm: &caxton.WasmSpec{Module: code}}); err != nil {
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

// BenchmarkWasmBatchCall measures the sandbox alone: one call into the C
// echo agent with a batch of 256 messages, reported per message.
func BenchmarkWasmBatchCall(b *testing.B) {
	e, err := sandbox.NewEngine()
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	m, err := e.Compile(mustRead(b, "guest/c/agents/echo.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	in, err := m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "echo"})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	batch := make([]*acl.Message, 256)
	for i := range batch {
		batch[i] = &acl.Message{Performative: acl.Request, Sender: "host", Receivers: []acl.AgentID{"echo"}, Content: []byte("x")}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := in.Handle(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/msg")
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
			m, err := e.Compile(guests[name](b))
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
