package micro_test

import (
	"context"
	"os"
	"testing"

	"github.com/caxton-go/caxton/guest/python/micro"
	"github.com/caxton-go/caxton/sandbox"
)

// BenchmarkCompile is wasmtime's first compile of each Python engine, with
// no module cache: what a runtime without WithSandboxCacheDir pays once
// per process, and every test binary that spawns a Python agent.
//
//	go test -run '^$' -bench Compile -benchtime 3x ./guest/python/micro
func BenchmarkCompile(b *testing.B) {
	gpython, err := os.ReadFile("../engine/pyengine.wasm")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range []struct {
		name string
		wasm []byte
	}{{"micro", micro.Engine()}, {"gpython", gpython}} {
		b.Run(e.name, func(b *testing.B) {
			b.SetBytes(int64(len(e.wasm)))
			for range b.N {
				eng, err := sandbox.NewEngine()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := eng.Compile(context.Background(), e.wasm); err != nil {
					b.Fatal(err)
				}
				_ = eng.Close()
			}
		})
	}
}
