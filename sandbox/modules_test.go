package sandbox_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

func TestBadBytesAreInvalidModules(t *testing.T) {
	e := newEngine(t)
	nop := testguest.WATBinary(t, testguest.WATNop)
	tests := []struct {
		name    string
		compile func() (*sandbox.Module, error)
		detail  string // in the error's detail
	}{
		{"nil", func() (*sandbox.Module, error) { return e.Compile(context.Background(), nil) }, "empty module"},
		{"empty", func() (*sandbox.Module, error) { return e.Compile(context.Background(), []byte{}) }, "empty module"},
		{"garbage", func() (*sandbox.Module, error) {
			return e.Compile(context.Background(), []byte("hello, I am not a module"))
		}, `does not begin with "\0asm"`},
		{"short garbage", func() (*sandbox.Module, error) { return e.Compile(context.Background(), []byte{0xff}) }, `does not begin with "\0asm"`},
		{"truncated", func() (*sandbox.Module, error) { return e.Compile(context.Background(), nop[:len(nop)/2]) }, "failed to parse WebAssembly module"},
		{"header only", func() (*sandbox.Module, error) { return e.Compile(context.Background(), nop[:8]) }, "missing required export"},
		{"text is not binary", func() (*sandbox.Module, error) { return e.Compile(context.Background(), []byte(testguest.WATNop)) }, "looks like WebAssembly text"},
		{"invalid code", func() (*sandbox.Module, error) {
			return e.Compile(context.Background(), testguest.WATBinary(t, `(module (func (drop (i32.add (i32.const 1)))))`))
		}, "type mismatch"},
		{"empty text", func() (*sandbox.Module, error) { return e.CompileText(context.Background(), " \n") }, "empty module"},
		{"garbage text", func() (*sandbox.Module, error) { return e.CompileText(context.Background(), "hello") }, "invalid WebAssembly text: expected `(` (at line:column 1:1)"},
		{"unfinished text", func() (*sandbox.Module, error) { return e.CompileText(context.Background(), "(module (func") }, "invalid WebAssembly text"},
		{"empty file", func() (*sandbox.Module, error) {
			return e.CompileFile(context.Background(), writeFile(t, "empty.wasm", nil))
		}, "empty module"},
		{"garbage file", func() (*sandbox.Module, error) {
			return e.CompileFile(context.Background(), writeFile(t, "g.wasm", []byte("garbage")))
		}, `does not begin with "\0asm"`},
		{"text in a .wasm file", func() (*sandbox.Module, error) {
			return e.CompileFile(context.Background(), writeFile(t, "nop.wasm", []byte(testguest.WATNop)))
		}, "looks like WebAssembly text"},
		{"garbage .wat file", func() (*sandbox.Module, error) {
			return e.CompileFile(context.Background(), writeFile(t, "g.wat", []byte("garbage")))
		}, "invalid WebAssembly text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.compile()
			assert.Nil(t, m)
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.ErrorIs(t, err, sandbox.ErrSandbox)
			if tc.name == "header only" {
				assert.Equal(t, sandbox.KindABIViolation, se.Kind, "a valid, empty module breaks the ABI")
			} else {
				assert.Equal(t, sandbox.KindInvalidModule, se.Kind)
			}
			assert.Contains(t, se.Detail, tc.detail)
			assert.Empty(t, se.Agent, "a module belongs to no agent")
			assert.NotContains(t, err.Error(), "\n", "one line")
			assert.True(t, strings.HasPrefix(err.Error(), "sandbox: "+se.Kind.String()+": "), err.Error())
		})
	}
}

func TestTextIsCompiledOnlyWhenAsked(t *testing.T) {
	e := newEngine(t)
	fromText, err := e.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	fromBinary, err := e.Compile(context.Background(), testguest.WATBinary(t, testguest.WATNop))
	require.NoError(t, err)
	assert.Same(t, fromText, fromBinary, "text is compiled as the binary it stands for, through the same cache")
	fromFile, err := e.CompileFile(context.Background(), writeFile(t, "nop.WAT", []byte(testguest.WATNop)))
	require.NoError(t, err)
	assert.Same(t, fromText, fromFile, "a .wat file is text")
	assert.True(t, sandbox.IsTextFile("a/b.wat"))
	assert.False(t, sandbox.IsTextFile("a/b.wasm"))
	assert.False(t, sandbox.IsTextFile("wat"))
}

// backtraceChild marks the child process TestErrorsCarryNoRustBacktrace
// runs with RUST_BACKTRACE=1.
const backtraceChild = "CAXTON_TEST_BACKTRACE_CHILD"

// TestErrorsCarryNoRustBacktrace checks error text on every path (compile,
// text, instantiate, trap) both in this process, whatever RUST_BACKTRACE
// says, and in a child process that sets it, since Rust reads the variable
// once per process.
func TestErrorsCarryNoRustBacktrace(t *testing.T) {
	t.Run("this process", checkNoBacktrace)
	if os.Getenv(backtraceChild) != "" {
		return
	}
	t.Run("RUST_BACKTRACE=1", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestErrorsCarryNoRustBacktrace$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "RUST_BACKTRACE=1", backtraceChild+"=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "child test failed:\n%s", out)
		assert.Contains(t, string(out), "--- PASS: TestErrorsCarryNoRustBacktrace/this_process")
	})
}

func checkNoBacktrace(t *testing.T) {
	e := newEngine(t)
	nop := testguest.WATBinary(t, testguest.WATNop)
	errOf := func(_ any, err error) error { return err }
	handle := func(src string) error {
		in := instantiate(t, e, src, sandbox.InstanceConfig{})
		_, err := in.Handle(context.Background(), batchOf(1))
		return err
	}
	start := func(src string) error {
		m, err := e.CompileText(context.Background(), src)
		require.NoError(t, err)
		return errOf(m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "a"}))
	}
	for name, err := range map[string]error{
		"bad text":        errOf(e.CompileText(context.Background(), "garbage")),
		"truncated":       errOf(e.Compile(context.Background(), nop[:len(nop)-3])),
		"invalid code":    errOf(e.Compile(context.Background(), testguest.WATBinary(t, `(module (func (drop (i32.add (i32.const 1)))))`))),
		"unlinkable":      start(testguest.WATGuest(`(import "wasi_snapshot_preview1" "no_such_call" (func))`, `(i64.const 0)`)),
		"huge table":      start(testguest.WATGuest(`(table 1000000 funcref)`, `(i64.const 0)`)),
		"unreachable":     handle(testguest.WATUnreachable),
		"stack overflow":  handle(testguest.WATRecursion),
		"host import":     handle(testguest.WATGuest(`(import "caxton" "log" (func $log (param i32 i32 i32)))`, `(call $log (i32.const 0) (i32.const -1) (i32.const 8)) (i64.const 0)`)),
		"divide by zero":  handle(testguest.WATDivZero),
		"out of bounds":   handle(testguest.WATOutOfBounds),
		"wrong ABI value": start(testguest.WATWrongVersion),
	} {
		require.Error(t, err, name)
		var se *sandbox.Error
		require.ErrorAs(t, err, &se, name)
		msg := err.Error()
		assert.NotContains(t, msg, "backtrace", "%s: %s", name, msg)
		assert.NotContains(t, msg, "anyhow", "%s: %s", name, msg)
		assert.NotContains(t, msg, "\n", "%s: one line: %s", name, msg)
		assert.Less(t, len(msg), 1000, name)
		t.Logf("%s: %s", name, msg)
	}
}
