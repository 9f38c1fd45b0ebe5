package provenance_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/caxton-go/caxton/guest/gobuild"
	"github.com/caxton-go/caxton/internal/provenance"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, name, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
	require.NoError(t, os.WriteFile(name, []byte(content), 0o644))
}

// A Go guest's provenance holds gobuild's manifest; Check recomputes it and
// names the source that changed.
func TestGoGuestProvenance(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module example.com/app\n\ngo 1.24\n")
	write(t, filepath.Join(dir, "agent", "main.go"), "package main\n\nimport \"example.com/app/lib\"\n\nfunc main() { lib.F() }\n")
	write(t, filepath.Join(dir, "lib", "lib.go"), "package lib\n\nfunc F() {}\n")
	s, err := gobuild.Inspect(t.Context(), filepath.Join(dir, "agent"))
	require.NoError(t, err)
	wasmPath := filepath.Join(dir, "agent", "agent.wasm")
	wasm := []byte("\x00asm\x01\x00\x00\x00 stands in for a build")
	write(t, wasmPath, string(wasm))
	f, err := provenance.ForGo(wasmPath, wasm, s)
	require.NoError(t, err)
	require.NoError(t, f.Write(filepath.Dir(wasmPath)))
	sum := wasmPath + provenance.Suffix

	read, err := provenance.Read(sum)
	require.NoError(t, err)
	assert.Equal(t, f, read, "the file reads back as written")
	assert.Equal(t, "go", read.Language)
	assert.Equal(t, "go "+s.GoVersion, read.Toolchain)
	assert.Equal(t, ".", read.Package)
	require.NoError(t, provenance.Check(t.Context(), sum))

	write(t, filepath.Join(dir, "lib", "lib.go"), "package lib\n\nfunc F() { println() }\n")
	err = provenance.Check(t.Context(), sum)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "changed: file example.com/app/lib/lib.go")
	assert.Contains(t, err.Error(), "the sources of agent.wasm changed")

	write(t, filepath.Join(dir, "lib", "lib.go"), "package lib\n\nfunc F() {}\n")
	require.NoError(t, provenance.Check(t.Context(), sum), "back as built")
	write(t, filepath.Join(dir, "lib", "more.go"), "package lib\n\nfunc G() {}\n")
	err = provenance.Check(t.Context(), sum)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "new: file example.com/app/lib/more.go")

	require.NoError(t, os.Remove(filepath.Join(dir, "lib", "more.go")))
	write(t, wasmPath, "\x00asm\x01\x00\x00\x00 rebuilt by hand")
	err = provenance.Check(t.Context(), sum)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "agent.wasm has hash sha256:")
}

// fakeToolchain puts a compiler named name on PATH that reports version
// and "compiles" by copying its input.
func fakeToolchain(t *testing.T, name, version string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake compiler is a shell script")
	}
	bin := t.TempDir()
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then echo '" + version + "'; echo 'more lines'; exit 0; fi\ncp \"$1\" \"$2\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// A guest from another toolchain lists its input files relative to the
// provenance file; Rebuild runs its Makefile with OUT set when the same
// toolchain is here, and says why not otherwise.
func TestFilesGuestProvenanceAndRebuild(t *testing.T) {
	fakeToolchain(t, "fakecc", "fakecc version 1.0")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "Makefile"), "CLANG ?= fakecc\nOUT ?= agents\n$(OUT)/%.wasm: agents/%.src Makefile\n\t$(CLANG) $< $@\n")
	write(t, filepath.Join(dir, "agents", "echo.src"), "\x00asm echo v1")
	write(t, filepath.Join(dir, "lib.h"), "shared")
	wasmPath := filepath.Join(dir, "agents", "echo.wasm")
	write(t, wasmPath, "\x00asm echo v1")
	f, err := provenance.ForFiles(t.Context(), wasmPath, "c", "fakecc",
		[]string{filepath.Join(dir, "agents", "echo.src"), filepath.Join(dir, "lib.h"), filepath.Join(dir, "Makefile")})
	require.NoError(t, err)
	require.NoError(t, f.Write(filepath.Dir(wasmPath)))
	sum := wasmPath + provenance.Suffix
	text, err := os.ReadFile(sum)
	require.NoError(t, err)
	assert.Contains(t, string(text), "toolchain fakecc fakecc version 1.0\n")
	assert.Contains(t, string(text), "input file ../lib.h ")
	assert.Contains(t, string(text), "input file echo.src ")
	require.NoError(t, provenance.Check(t.Context(), sum))

	skipped, err := provenance.Rebuild(t.Context(), sum)
	require.NoError(t, err)
	assert.Empty(t, skipped, "rebuilt and compared")

	write(t, filepath.Join(dir, "lib.h"), "changed")
	err = provenance.Check(t.Context(), sum)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "changed: file ../lib.h")
	write(t, filepath.Join(dir, "lib.h"), "shared")

	// The checked-in module is not what its sources build.
	write(t, filepath.Join(dir, "agents", "echo.src"), "\x00asm echo v2")
	f, err = provenance.ForFiles(t.Context(), wasmPath, "c", "fakecc",
		[]string{filepath.Join(dir, "agents", "echo.src"), filepath.Join(dir, "lib.h"), filepath.Join(dir, "Makefile")})
	require.NoError(t, err)
	require.NoError(t, f.Write(filepath.Dir(wasmPath)))
	require.NoError(t, provenance.Check(t.Context(), sum), "hashes agree")
	_, err = provenance.Rebuild(t.Context(), sum)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is different")

	fakeToolchain(t, "fakecc", "fakecc version 2.0")
	skipped, err = provenance.Rebuild(t.Context(), sum)
	require.NoError(t, err)
	assert.Contains(t, skipped, "built with fakecc fakecc version 1.0; fakecc here is fakecc version 2.0")

	t.Setenv("PATH", t.TempDir())
	skipped, err = provenance.Rebuild(t.Context(), sum)
	require.NoError(t, err)
	assert.Contains(t, skipped, "fakecc, which is not on PATH")
}

func TestParseRejectsDamagedFiles(t *testing.T) {
	good := "# comment\nwasm a.wasm sha256:00\nlanguage c\ntoolchain cc 1\ninputs " + gobuild.HashManifest([]string{"file a.c 11"}) + "\ninput file a.c 11\n"
	_, err := provenance.Parse([]byte(good))
	require.NoError(t, err)
	for name, tc := range map[string]struct{ text, want string }{
		"edited input":   {strings.Replace(good, "input file a.c 11", "input file a.c 12", 1), "edited by hand?"},
		"no toolchain":   {strings.Replace(good, "toolchain cc 1\n", "", 1), `no "toolchain" line`},
		"unknown field":  {good + "colour blue\n", `unknown field "colour"`},
		"no inputs":      {strings.Replace(good, "input file a.c 11\n", "", 1), "no input lines"},
		"go, no package": {strings.Replace(good, "language c", "language go", 1), `"package" line`},
		"bad wasm line":  {strings.Replace(good, "wasm a.wasm sha256:00", "wasm a.wasm", 1), "wasm NAME"},
	} {
		_, err := provenance.Parse([]byte(tc.text))
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), tc.want, name)
		}
	}
}
