package caxton_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tempFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// Every way of handing Spawn bytes that are not a usable module fails with
// a *sandbox.Error of a definite kind that names the agent.
func TestBadModulesFailSpawnWithTypedErrors(t *testing.T) {
	nop := testguest.WATBinary(t, testguest.WATNop)
	tests := []struct {
		name   string
		spec   caxton.WasmSpec
		kind   sandbox.Kind
		detail string
	}{
		{"garbage", caxton.WasmSpec{Module: []byte("this is not wasm")}, sandbox.KindInvalidModule, `does not begin with "\0asm"`},
		{"truncated", caxton.WasmSpec{Module: nop[:len(nop)-5]}, sandbox.KindInvalidModule, "failed to parse"},
		{"text as a binary", caxton.WasmSpec{Module: []byte(testguest.WATNop)}, sandbox.KindInvalidModule, "looks like WebAssembly text"},
		{"bad text", caxton.WasmSpec{WAT: "garbage"}, sandbox.KindInvalidModule, "invalid WebAssembly text"},
		{"empty file", caxton.WasmSpec{File: tempFile(t, "empty.wasm", nil)}, sandbox.KindInvalidModule, "empty module"},
		{"garbage file", caxton.WasmSpec{File: tempFile(t, "g.wasm", []byte{0xde, 0xad, 0xbe, 0xef})}, sandbox.KindInvalidModule, `does not begin with "\0asm"`},
		{"truncated file", caxton.WasmSpec{File: tempFile(t, "t.wasm", nop[:20])}, sandbox.KindInvalidModule, "failed to parse"},
		{"garbage .wat file", caxton.WasmSpec{File: tempFile(t, "g.wat", []byte("(modul"))}, sandbox.KindInvalidModule, "invalid WebAssembly text"},
		{"huge table", caxton.WasmSpec{WAT: testguest.WATHugeTable}, sandbox.KindTable, "exceeds table limits"},
		{"ABI violation", caxton.WasmSpec{WAT: testguest.WATNoHandle}, sandbox.KindABIViolation, "missing required export"},
		{"ABI violation in a binary", caxton.WasmSpec{Module: testguest.WATBinary(t, testguest.WATBadImport)}, sandbox.KindABIViolation, "import env.evil"},
	}
	rt := caxtontest.NewRuntime(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			err := rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: "bad", Wasm: &spec})
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.ErrorIs(t, err, sandbox.ErrSandbox)
			assert.Equal(t, tc.kind, se.Kind)
			assert.Contains(t, se.Detail, tc.detail)
			assert.Equal(t, "bad", string(se.Agent))
			assert.Contains(t, err.Error(), `sandbox: agent "bad": `+tc.kind.String())
			_, err = rt.Agent("bad")
			assert.ErrorIs(t, err, caxton.ErrAgentNotFound, "nothing is left registered")
		})
	}
}

func TestWasmSpecTakesTextOnlyWhenAsked(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	for name, spec := range map[string]caxton.WasmSpec{
		"binary":    {Module: testguest.WATBinary(t, testguest.WATNop)},
		"text":      {WAT: testguest.WATNop},
		"wat file":  {File: tempFile(t, "nop.wat", []byte(testguest.WATNop))},
		"wasm file": {File: tempFile(t, "nop.wasm", testguest.WATBinary(t, testguest.WATNop))},
	} {
		t.Run(name, func(t *testing.T) {
			rt.MustSpawn(caxton.AgentSpec{Name: "ok", Wasm: &spec})
			require.NoError(t, rt.Remove(caxtontest.Context(t), "ok"))
		})
	}
	for name, spec := range map[string]caxton.WasmSpec{
		"none":            {},
		"module and text": {Module: testguest.WATBinary(t, testguest.WATNop), WAT: testguest.WATNop},
		"text and file":   {WAT: testguest.WATNop, File: "nop.wat"},
	} {
		t.Run(name, func(t *testing.T) {
			err := rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: "x", Wasm: &spec})
			var fe *caxton.SpecError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "Wasm", fe.Field)
		})
	}
}

// A guest that loops in its start-up holds Spawn only until Spawn's
// context ends, not for the (longer) batch deadline.
func TestSpawnReturnsByItsContextDeadline(t *testing.T) {
	for name, wat := range map[string]string{
		"_initialize":    testguest.WATGuest(`(func (export "_initialize") (loop $l (br $l)))`, `(i64.const 0)`),
		"start function": testguest.WATGuest(`(func $start (loop $l (br $l))) (start $start)`, `(i64.const 0)`),
	} {
		t.Run(name, func(t *testing.T) {
			rt := caxtontest.NewRuntime(t)
			ctx, cancel := context.WithTimeout(caxtontest.Context(t), 100*time.Millisecond)
			defer cancel()
			began := time.Now()
			err := rt.Spawn(ctx, caxton.AgentSpec{Name: "slow", Wasm: &caxton.WasmSpec{WAT: wat, Limits: sandbox.Limits{BatchDeadline: 20 * time.Second}}})
			assert.Less(t, time.Since(began), 10*time.Second, "Spawn returns by its context's deadline")
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sandbox.KindDeadline, se.Kind)
			assert.Contains(t, err.Error(), "start-up did not finish by the context's deadline")
			_, err = rt.Agent("slow")
			assert.ErrorIs(t, err, caxton.ErrAgentNotFound, "nothing is left registered")
		})
	}
}

// A Go guest built without -buildmode=c-shared is refused at Spawn with
// how to build it, not with an unreachable trap in caxton_abi_version.
func TestGoCommandModuleFailsSpawnWithBuildAdvice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go guests")
	}
	rt := caxtontest.NewRuntime(t, cachedModules())
	module := testguest.BuildCommand(t, "echo") // before the context: a cold build takes longer than its timeout
	// Spawn's context bounds the compilation, a cold one of 3 MB on a busy
	// machine included: a safety net, not a measure.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := rt.Spawn(ctx, caxton.AgentSpec{Name: "cmd", Wasm: &caxton.WasmSpec{Module: module}})
	var se *sandbox.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sandbox.KindABIViolation, se.Kind)
	assert.Equal(t, "cmd", string(se.Agent))
	assert.Contains(t, err.Error(), "go build -buildmode=c-shared")
	assert.NotContains(t, err.Error(), "unreachable")
	assert.NotContains(t, err.Error(), "NewHandler", "the spec used Wasm")
}

// Errors from starting a wasm guest speak of the guest, not of the
// NewHandler the host never wrote.
func TestWasmStartErrorsDoNotMentionNewHandler(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	err := rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: "v2", Wasm: &caxton.WasmSpec{WAT: testguest.WATWrongVersion}})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "NewHandler")
	assert.Contains(t, err.Error(), `caxton: agent "v2" replica 0: starting its wasm guest: sandbox: agent "v2": ABI violation`)
}
