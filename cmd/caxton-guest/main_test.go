package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildWritesTheModuleAndItsProvenanceThenCheckFollowsTheSources(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/app\n\ngo 1.24\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "agent"), 0o755))
	src := filepath.Join(dir, "agent", "main.go")
	require.NoError(t, os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644))
	out := filepath.Join(dir, "agent", "agent.wasm")

	var stdout bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"build", "-o", out, filepath.Join(dir, "agent")}, &stdout))
	assert.Contains(t, stdout.String(), "agent.wasm: ")
	wasm, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(wasm, []byte("\x00asm")))
	sum, err := os.ReadFile(out + ".sum")
	require.NoError(t, err)
	assert.Contains(t, string(sum), "language go\n")
	assert.Contains(t, string(sum), "package .\n")
	assert.Contains(t, string(sum), "input file example.com/app/agent/main.go ")

	stdout.Reset()
	require.NoError(t, run(t.Context(), []string{"check", dir}, &stdout))
	assert.Contains(t, stdout.String(), "agent.wasm.sum: ok")

	require.NoError(t, os.WriteFile(src, []byte("package main\n\nfunc main() { println() }\n"), 0o644))
	err = run(t.Context(), []string{"check", dir}, &stdout)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "changed: file example.com/app/agent/main.go")

	err = run(t.Context(), []string{"check", t.TempDir()}, &stdout)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no *.wasm.sum files")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"build", "a", "b"}, {"build", "-x"}, {"sum", "-lang", "c"}, {"check", "-nope"}} {
		err := run(t.Context(), args, &bytes.Buffer{})
		var u usageError
		assert.True(t, errors.As(err, &u), "%q: %v", args, err)
	}
}
