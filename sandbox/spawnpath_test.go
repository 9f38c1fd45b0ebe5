package sandbox_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Compile finds a module by its content, not by the slice it was given:
// a copy of the same bytes is the same module, one changed byte is not.
func TestCompileIndexesByContent(t *testing.T) {
	e := newEngine(t)
	bin, err := wasmtime.Wat2Wasm(testguest.WATNop)
	require.NoError(t, err)
	m1, err := e.Compile(context.Background(), bin)
	require.NoError(t, err)
	m2, err := e.Compile(context.Background(), bytes.Clone(bin))
	require.NoError(t, err)
	assert.Same(t, m1, m2)

	other, err := wasmtime.Wat2Wasm(testguest.WATWrongVersion) // one constant differs
	require.NoError(t, err)
	require.Equal(t, len(bin), len(other))
	m3, err := e.Compile(context.Background(), other)
	require.NoError(t, err)
	assert.NotSame(t, m1, m3)
}

// The ABI version is checked until an instance passes the check: a module
// declaring another version fails every time, not only the first.
func TestWrongABIVersionFailsEveryInstance(t *testing.T) {
	e := newEngine(t)
	m, err := e.CompileText(context.Background(), testguest.WATWrongVersion)
	require.NoError(t, err)
	for range 3 {
		_, err = m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "v2"})
		var se *sandbox.Error
		require.ErrorAs(t, err, &se)
		assert.Equal(t, sandbox.KindABIViolation, se.Kind)
	}
	ok, err := e.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	for range 3 { // checked once, then skipped: every instance still works
		in, err := ok.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "ok"})
		require.NoError(t, err)
		_, err = in.Handle(context.Background(), batchOf(1))
		require.NoError(t, err)
		require.NoError(t, in.Close())
	}
}

// A module without WASI imports is given no WASI context, but a bad grant
// is still refused.
func TestGrantsCheckedWithoutWASIImports(t *testing.T) {
	e := newEngine(t)
	m, err := e.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	_, err = m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "g",
		Grants: sandbox.Grants{Dirs: []sandbox.DirGrant{{HostPath: "/nonexistent/caxton", GuestPath: "/data"}}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/caxton")
}
