// Package testguest builds the Go guest agents used by tests
// (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared) and caches the
// result on disk, keyed by a hash of every source file that goes into it,
// so a guest is rebuilt only when its code or the SDK changes.
package testguest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

var mu sync.Mutex // serialises builds within one test binary

// Build returns the wasm bytes of the Go guest in the directory
// sandbox/testdata/goguests/<name> of this module.
func Build(t testing.TB, name string) []byte {
	t.Helper()
	root := moduleRoot(t)
	dir := filepath.Join(root, "sandbox", "testdata", "goguests", name)
	key, err := sourceHash(root, dir)
	if err != nil {
		t.Fatalf("testguest: hashing sources of %s: %v", name, err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	out := filepath.Join(cache, "caxton-test-guests", name+"-"+key[:16]+".wasm")
	mu.Lock()
	defer mu.Unlock()
	if b, err := os.ReadFile(out); err == nil {
		return b
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatalf("testguest: %v", err)
	}
	tmp := out + ".tmp"
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildmode=c-shared", "-o", tmp, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testguest: building %s: %v\n%s", name, err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatalf("testguest: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("testguest: %v", err)
	}
	return b
}

func moduleRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testguest: cannot locate the module")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// sourceHash hashes the guest's own sources and those of the packages it
// builds on (guest SDK, ABI codec, acl), plus the Go version.
func sourceHash(root, dir string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	var files []string
	for _, d := range []string{dir, filepath.Join(root, "guest"), filepath.Join(root, "internal", "abi"), filepath.Join(root, "acl"), filepath.Join(root, "go.mod")} {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !e.IsDir() && (strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") || strings.HasSuffix(p, "go.mod")) {
				files = append(files, p)
			}
			if e.IsDir() && p != d && e.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
