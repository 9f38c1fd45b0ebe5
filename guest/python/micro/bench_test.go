package micro_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton/guest/python/micro"
	"github.com/caxton-go/caxton/sandbox"
)

// BenchmarkCompile is wasmtime's first compile of the Python engine, with
// no module cache: what a runtime without WithSandboxCacheDir pays once
// per process. (The gpython engine this one replaced took 10.9 s in the
// same run as this one's 1.2 s: BENCHMARKS.md, "Python engines".)
//
//	go test -run '^$' -bench Compile -benchtime 3x ./guest/python/micro
func BenchmarkCompile(b *testing.B) {
	for _, e := range []struct {
		name string
		wasm []byte
	}{{"micro", micro.Engine()}} {
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
