// Package testguest provides the guest agents of the tests: the Go guests
// under sandbox/testdata/goguests, built when a test first needs them with
// guest/gobuild (cached on disk in gobuild.DefaultCacheDir, keyed by the
// hash of their sources and the Go version, so a guest is compiled once per
// machine until it or the SDK changes), and hand-written WAT modules
// (wat.go).
package testguest

import (
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
	var opts []gobuild.Option
	if dir, err := gobuild.DefaultCacheDir(); err == nil {
		opts = append(opts, gobuild.WithCache(dir))
	}
	mu.Lock()
	defer mu.Unlock()
	b, err := gobuild.Build(t.Context(), filepath.Join(ModuleRoot(), "sandbox", "testdata", "goguests", name), opts...)
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
