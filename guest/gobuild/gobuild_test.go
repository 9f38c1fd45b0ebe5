package gobuild_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/caxton-go/caxton/guest/gobuild"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sha256Of(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// writeModule writes files (name → content) under a new directory and
// returns it.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

const tinyGuest = `package main

//go:wasmexport answer
func answer() int32 { return 42 }

func main() {}
`

// The same sources give the same bytes, wherever they are built.
func TestBuildIsReproducible(t *testing.T) {
	files := map[string]string{"go.mod": "module example.com/tiny\n\ngo 1.24\n", "main.go": tinyGuest}
	a, b := writeModule(t, files), writeModule(t, files)
	wa, err := gobuild.Build(t.Context(), a)
	require.NoError(t, err)
	wb, err := gobuild.Build(t.Context(), b)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(wa), "\x00asm"), "a wasm module")
	assert.Equal(t, sha256.Sum256(wa), sha256.Sum256(wb), "built in %s and in %s", a, b)
	assert.NotContains(t, string(wa), a, "no build path in the module (-trimpath)")
}

// The hash covers the guest's packages in its module and nothing else of
// the module; it does not include the Go version.
func TestInspectHashesWhatTheGuestImports(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"go.mod":        "module example.com/app\n\ngo 1.24\n\ngodebug panicnil=1\n",
		"agent/main.go": "package main\n\nimport \"example.com/app/lib\"\n\nfunc main() { lib.F() }\n",
		"lib/lib.go":    "package lib\n\nfunc F() {}\n",
		"lib/embed.go":  "package lib\n\nimport _ \"embed\"\n\n//go:embed data.txt\nvar data string\n",
		"lib/data.txt":  "v1",
		"host/host.go":  "package host\n\nfunc Serve() {}\n",
	})
	agent := filepath.Join(dir, "agent")
	s, err := gobuild.Inspect(t.Context(), agent)
	require.NoError(t, err)
	assert.Equal(t, "example.com/app/agent", s.Package)
	assert.Equal(t, agent, s.Dir)
	assert.True(t, strings.HasPrefix(s.GoVersion, "go"), s.GoVersion)
	var names []string
	for _, l := range s.Manifest {
		f := strings.Fields(l)
		if f[0] == "file" {
			names = append(names, f[1])
		}
	}
	assert.Equal(t, []string{"example.com/app/agent/main.go", "example.com/app/lib/data.txt", "example.com/app/lib/embed.go", "example.com/app/lib/lib.go"}, names)
	assert.Contains(t, s.Manifest, "go 1.24")
	assert.Contains(t, s.Manifest, "godebug panicnil=1")
	assert.Equal(t, gobuild.HashManifest(s.Manifest), s.Hash)

	rehash := func() string {
		t.Helper()
		s, err := gobuild.Inspect(t.Context(), agent)
		require.NoError(t, err)
		return s.Hash
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "host", "host.go"), []byte("package host\n\nfunc Serve() { panic(1) }\n"), 0o644))
	assert.Equal(t, s.Hash, rehash(), "host code the guest does not import")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lib", "data.txt"), []byte("v2"), 0o644))
	h2 := rehash()
	assert.NotEqual(t, s.Hash, h2, "an embedded file")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lib", "lib.go"), []byte("package lib\n\nfunc F() { println() }\n"), 0o644))
	assert.NotEqual(t, h2, rehash(), "a package the guest imports")
}

// Modules from outside are listed by version, not by their files.
func TestInspectListsOtherModulesByVersion(t *testing.T) {
	sums := goSumLines(t, "golang.org/x/time v0.16.0")
	dir := writeModule(t, map[string]string{
		"go.mod":  "module example.com/limited\n\ngo 1.26.0\n\nrequire golang.org/x/time v0.16.0\n",
		"go.sum":  sums,
		"main.go": "package main\n\nimport \"golang.org/x/time/rate\"\n\nvar L = rate.NewLimiter(1, 1)\n\nfunc main() {}\n",
	})
	s, err := gobuild.Inspect(t.Context(), dir)
	require.NoError(t, err)
	assert.Contains(t, s.Manifest, "module golang.org/x/time v0.16.0")
	for _, l := range s.Manifest {
		assert.NotContains(t, l, "file golang.org/", "files of versioned modules are not listed")
	}
}

// goSumLines returns this module's go.sum lines for a module version.
func goSumLines(t *testing.T, modVersion string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "go.sum"))
	require.NoError(t, err)
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), modVersion+" ") || strings.HasPrefix(sc.Text(), modVersion+"/go.mod ") {
			b.WriteString(sc.Text() + "\n")
		}
	}
	require.NotEmpty(t, b.String(), "go.sum has %s", modVersion)
	return b.String()
}

// A failed build says where and includes the compiler's message.
func TestBuildErrorsCarryTheGoCommandsOutput(t *testing.T) {
	dir := writeModule(t, map[string]string{"go.mod": "module example.com/broken\n\ngo 1.24\n", "main.go": "package main\n\nfunc main() { notDeclared() }\n"})
	_, err := gobuild.Build(t.Context(), dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), dir)
	assert.Contains(t, err.Error(), "undefined: notDeclared")

	_, err = gobuild.Inspect(t.Context(), t.TempDir())
	require.Error(t, err, "no module")
	assert.Contains(t, err.Error(), "go.mod")
}

func TestBuildHonoursTheContext(t *testing.T) {
	dir := writeModule(t, map[string]string{"go.mod": "module example.com/tiny\n\ngo 1.24\n", "main.go": tinyGuest})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := gobuild.Build(ctx, dir)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = gobuild.Build(ctx, dir, gobuild.WithCache(t.TempDir()))
	assert.ErrorIs(t, err, context.Canceled)
}

// With a cache, a guest whose sources and Go version are unchanged is read
// from it; changed sources are built again.
func TestCacheIsKeyedBySources(t *testing.T) {
	dir := writeModule(t, map[string]string{"go.mod": "module example.com/tiny\n\ngo 1.24\n", "main.go": tinyGuest})
	cache := filepath.Join(t.TempDir(), "guests")
	first, err := gobuild.Build(t.Context(), dir, gobuild.WithCache(cache))
	require.NoError(t, err)
	entries, err := filepath.Glob(filepath.Join(cache, "tiny-*.wasm"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	stored, err := os.ReadFile(entries[0])
	require.NoError(t, err)
	assert.Equal(t, first, stored)

	// Plant a marker module in the entry: a hit returns it as it is.
	marker := []byte("\x00asm\x01\x00\x00\x00")
	require.NoError(t, os.WriteFile(entries[0], marker, 0o644))
	got, err := gobuild.Build(t.Context(), dir, gobuild.WithCache(cache))
	require.NoError(t, err)
	assert.Equal(t, marker, got, "read from the cache")

	// A corrupt entry (not wasm) is built again.
	require.NoError(t, os.WriteFile(entries[0], []byte("garbage"), 0o644))
	got, err = gobuild.Build(t.Context(), dir, gobuild.WithCache(cache))
	require.NoError(t, err)
	assert.Equal(t, first, got)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(strings.Replace(tinyGuest, "42", "43", 1)), 0o644))
	changed, err := gobuild.Build(t.Context(), dir, gobuild.WithCache(cache))
	require.NoError(t, err)
	assert.NotEqual(t, first, changed)
	entries, err = filepath.Glob(filepath.Join(cache, "tiny-*.wasm"))
	require.NoError(t, err)
	assert.Len(t, entries, 2)
}

func TestDefaultCacheDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("os.UserCacheDir follows XDG_CACHE_HOME on Linux")
	}
	t.Setenv("XDG_CACHE_HOME", "/somewhere")
	dir, err := gobuild.DefaultCacheDir()
	require.NoError(t, err)
	assert.Equal(t, "/somewhere/caxton/guests", dir)
}
