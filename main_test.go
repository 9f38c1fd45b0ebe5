package caxton_test

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/guest/python"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
)

// goGuests are the Go guests the tests build (sandbox/testdata/goguests).
var goGuests = []string{"echo", "counter", "worker", "blocker", "toolcaller", "wasi"}

// TestMain starts the wasm tests' cold-cache work in the background before
// the tests run: building the Go guests (the first build compiles the
// wasip1 runtime and the SDK, 15 s or more) and compiling them and the
// script engines into the shared module cache. On a fresh machine that
// overlaps the tests that need none of it, instead of stalling the first
// test that does; a test
// that gets there first waits for the work in progress (testguest's lock,
// the module cache's compile lock) rather than doing it twice. Only a full
// run does this: a run of chosen tests (-run), benchmarks or -short pays
// only for what it uses.
func TestMain(m *testing.M) {
	flag.Parse()
	if run := flag.Lookup("test.run"); !testing.Short() && run != nil && run.Value.String() == "" {
		prewarm()
	}
	os.Exit(m.Run())
}

func prewarm() {
	e, err := sandbox.NewEngine(sandbox.WithCacheDir(moduleCache))
	if err != nil {
		return // the tests report it
	}
	compile := func(code []byte) { _, _ = e.Compile(context.Background(), code) }
	testguest.Prebuild(compile, goGuests...)
	go func() {
		compile(js.Engine())
		compile(python.Engine())
	}()
}
