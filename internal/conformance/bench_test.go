package conformance_test

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/guest/python"
	"github.com/caxton-go/caxton/internal/sandboxbench"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/conformance"
	"github.com/caxton-go/caxton/sandbox"
)

// BenchmarkGuestLanguages measures each language's echo agent in one run,
// so the languages compare on the same machine at the same moment. For
// each: start is Module.Instantiate of the compiled module (p50/p99/mean);
// idle-memory the resident memory per live idle instance, each having
// handled one message (growth of the process's RSS over 200 instances);
// batch one call with 256 messages, per message (the amortised cost);
// request-reply a host Request through a runtime and its reply. Run:
//
//	go test -run '^$' -bench BenchmarkGuestLanguages -benchtime 2000x ./internal/conformance
func BenchmarkGuestLanguages(b *testing.B) {
	for _, lang := range conformance.Languages() {
		b.Run(lang.Name, func(b *testing.B) {
			w := lang.Echo(b)
			if len(w.Module) == 0 {
				b.Skipf("%s's echo is not a plain module", lang.Name)
			}
			e, err := sandbox.NewEngine(sandbox.WithCacheDir(moduleCache))
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			m, err := e.Compile(context.Background(), w.Module)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("start", func(b *testing.B) { benchStart(b, m) })
			b.Run("idle-memory", func(b *testing.B) { benchIdleMemory(b, m) })
			b.Run("batch", func(b *testing.B) { benchBatch(b, m) })
			b.Run("request-reply", func(b *testing.B) { benchRequestReply(b, w) })
		})
	}
}

func benchStart(b *testing.B, m *sandbox.Module) {
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
}

// benchIdleMemory ignores b.N beyond running once: it is a size, not a
// speed.
func benchIdleMemory(b *testing.B, m *sandbox.Module) {
	const n = 200
	ping := []*acl.Message{{Performative: acl.Request, Sender: "host", Receivers: []acl.AgentID{"a"}, Content: []byte("ping")}}
	warm, err := m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "a"})
	if err != nil {
		b.Fatal(err)
	}
	defer warm.Close()
	if _, err := warm.Handle(context.Background(), ping); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	before := rss(b)
	live := make([]*sandbox.Instance, 0, n)
	defer func() {
		for _, in := range live {
			in.Close()
		}
	}()
	for range n {
		in, err := m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "a"})
		if err != nil {
			b.Fatal(err)
		}
		live = append(live, in)
		if _, err := in.Handle(context.Background(), ping); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	b.ReportMetric(float64(rss(b)-before)/n/1024, "KiB/agent")
}

func benchBatch(b *testing.B, m *sandbox.Module) {
	in, err := m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "echo"})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	sandboxbench.BatchCall(b, in)
}

func benchRequestReply(b *testing.B, w caxton.WasmSpec) {
	ctx := context.Background()
	rt, err := caxton.New(caxton.WithSandboxCacheDir(moduleCache), caxton.WithJavaScript(js.Engine()), caxton.WithPython(python.Engine()))
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Wasm: &w}); err != nil {
		b.Fatal(err)
	}
	to := []acl.AgentID{"echo"}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: to, Content: []byte("x")}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(sum.Nanoseconds())/float64(len(lat)), "mean-ns")
}

// rss is the process's resident set in bytes (Linux /proc).
func rss(b *testing.B) int64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Skipf("no resident-set figure here: %v", err)
	}
	f := strings.Fields(string(raw))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}
