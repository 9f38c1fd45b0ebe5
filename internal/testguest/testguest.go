// Package testguest builds the Go guest agents used by tests and examples
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
// sandbox/testdata/goguests/<name> of this module, failing t on error.
func Build(t testing.TB, name string) []byte {
	t.Helper()
	b, err := BuildDir(filepath.Join(ModuleRoot(), "sandbox", "testdata", "goguests", name))
	if err != nil {
		t.Fatalf("testguest: %v", err)
	}
	return b
}

// BuildCommand is Build without -buildmode=c-shared: the WASI command
// module a Go guest becomes when its author forgets the flag, which the
// host must refuse with advice.
func BuildCommand(t testing.TB, name string) []byte {
	t.Helper()
	b, err := build(filepath.Join(ModuleRoot(), "sandbox", "testdata", "goguests", name), false)
	if err != nil {
		t.Fatalf("testguest: %v", err)
	}
	return b
}

// BuildDir builds the Go guest whose main package is in dir (inside this
// module) with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared, or returns the
// cached result of an earlier build of the same sources.
func BuildDir(dir string) ([]byte, error) { return build(dir, true) }

func build(dir string, reactor bool) ([]byte, error) {
	root := ModuleRoot()
	key, err := sourceHash(root, dir)
	if err != nil {
		return nil, fmt.Errorf("hashing sources of %s: %w", dir, err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	name, args := filepath.Base(dir), []string{"build", "-buildmode=c-shared"}
	if !reactor {
		name, args = name+"-command", []string{"build"}
	}
	out := filepath.Join(cache, "caxton-test-guests", name+"-"+key[:16]+".wasm")
	mu.Lock()
	defer mu.Unlock()
	if b, err := os.ReadFile(out); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".build-*")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("building %s needs the go command on PATH: %w", dir, err)
	}
	cmd := exec.Command(goBin, append(args, "-o", tmp.Name(), ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building %s: %w\n%s", dir, err, b)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

// ModuleRoot returns the directory of this module's go.mod (from the
// location of this source file, so it works from any test's directory).
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// sourceHash hashes the guest's own sources and those of the packages it
// builds on (guest SDK, ABI codec, acl, protocol helpers), plus the Go
// version.
func sourceHash(root, dir string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	var files []string
	for _, d := range []string{dir, filepath.Join(root, "guest"), filepath.Join(root, "internal", "abi"), filepath.Join(root, "acl"),
		filepath.Join(root, "protocol"), filepath.Join(root, "contractnet"), filepath.Join(root, "clock"), filepath.Join(root, "go.mod")} {
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
