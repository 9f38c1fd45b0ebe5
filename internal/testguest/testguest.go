// Package testguest provides the guest agents of the tests: the Go guests
// under sandbox/testdata/goguests, built when a test first needs them with
// guest/gobuild (cached on disk in gobuild.DefaultCacheDir, keyed by the
// hash of their sources and the Go version, so a guest is compiled once per
// machine until it or the SDK changes), and hand-written WAT modules
// (wat.go).
package testguest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/caxton-go/caxton/guest/gobuild"
)

var mu sync.Mutex // one build at a time within a test binary: they share the go build cache

// Build returns the wasm bytes of the Go guest in the directory
// sandbox/testdata/goguests/<name> of this module, failing t on error.
func Build(t testing.TB, name string) []byte {
	t.Helper()
	b, err := build(t.Context(), name)
	if err != nil {
		t.Fatalf("testguest: %v", err)
	}
	return b
}

func build(ctx context.Context, name string) ([]byte, error) {
	var opts []gobuild.Option
	if dir, err := gobuild.DefaultCacheDir(); err == nil {
		opts = append(opts, gobuild.WithCache(dir))
	}
	mu.Lock()
	defer mu.Unlock()
	return gobuild.Build(ctx, filepath.Join(ModuleRoot(), "sandbox", "testdata", "goguests", name), opts...)
}

// Prebuild builds the named guests in the background, one after another,
// and hands each one built to then (to compile it into a module cache, say)
// — for a TestMain, so that a cold first build (15 s or more: the wasip1
// runtime and the SDK) overlaps the tests that need no guest. A test's
// Build of a guest being prebuilt waits for it and finds it cached. Errors
// are left for Build to report in the test that needs the guest.
func Prebuild(then func(code []byte), names ...string) {
	go func() {
		for _, name := range names {
			if b, err := build(context.Background(), name); err == nil && then != nil {
				then(b)
			}
		}
	}()
}

// BuildCommand builds the Go guest sandbox/testdata/goguests/<name>
// without -buildmode=c-shared: the WASI command module a Go guest becomes
// when its author forgets the flag, which the host must refuse with advice.
// (gobuild builds reactors only, so this runs the go command itself; the go
// build cache keeps it quick after the first time.)
func BuildCommand(t testing.TB, name string) []byte {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("testguest: building a command module needs the go command: %v", err)
	}
	out := filepath.Join(t.TempDir(), name+"-command.wasm")
	cmd := exec.CommandContext(t.Context(), goBin, "build", "-trimpath", "-buildvcs=false", "-o", out, ".")
	cmd.Dir = filepath.Join(ModuleRoot(), "sandbox", "testdata", "goguests", name)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	mu.Lock()
	defer mu.Unlock()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testguest: building %s as a command module: %v\n%s", name, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("testguest: %v", err)
	}
	return b
}

// ModuleRoot returns the directory of this module's go.mod (from the
// location of this source file, so it works from any test's directory).
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}
