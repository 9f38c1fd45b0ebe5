// Package jsengines compares the two ways to run JavaScript inside the
// sandbox that issue 17 names, in one run: QuickJS built for WASI with
// clang (the engine guest Caxton ships, guest/js) and goja, a pure-Go
// interpreter, compiled into a Go guest (gojaecho). It is a nested module
// so that goja is never a dependency of Caxton itself.
//
//	cd bench/jsengines && go test -bench . -benchtime 100x
//	go run ./bench/idleagents -n 200 -wasm /tmp/gojaecho.wasm   (after the benchmark built it)
package jsengines

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/sandbox"
)

const echoJS = `function handle(msg, ctx) { ctx.reply('inform', msg.text); }`

// buildGoja builds gojaecho to os.TempDir()/gojaecho.wasm (stripped).
func buildGoja(b *testing.B) []byte {
	b.Helper()
	out := filepath.Join(os.TempDir(), "gojaecho.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", out, "./gojaecho")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b2, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building gojaecho: %v\n%s", err, b2)
	}
	code, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	return code
}

func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(sum.Nanoseconds())/float64(len(lat)), "mean-ns")
}

func BenchmarkEngines(b *testing.B) {
	engines := []struct {
		name   string
		module []byte
		init   []byte
	}{
		{"quickjs", js.Engine(), []byte(echoJS)},
		{"goja", buildGoja(b), nil},
	}
	e, err := sandbox.NewEngine(sandbox.WithCacheDir(filepath.Join(os.TempDir(), "caxton-jsengines-cwasm")))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	for _, eng := range engines {
		m, err := e.Compile(context.Background(), eng.module)
		if err != nil {
			b.Fatal(err)
		}
		cfg := sandbox.InstanceConfig{Agent: "echo", Init: eng.init}
		b.Run(eng.name+"/start", func(b *testing.B) {
			b.ReportMetric(float64(len(eng.module)), "module-bytes")
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				in, err := m.Instantiate(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				b.StopTimer()
				in.Close()
				b.StartTimer()
			}
			report(b, lat)
		})
		b.Run(eng.name+"/batch", func(b *testing.B) {
			in, err := m.Instantiate(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			batch := make([]*acl.Message, 256)
			for i := range batch {
				batch[i] = &acl.Message{Performative: acl.Request, Sender: "host", Receivers: []acl.AgentID{"echo"}, Content: []byte("x")}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := in.Handle(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/msg")
		})
	}
}
