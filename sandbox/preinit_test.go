package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// initCounter is a guest whose _initialize adds one to the i32 at 32 and
// sets a hidden global to 7, and whose every batch replies with both, as
// two ASCII digits.
func initCounter(t *testing.T) []byte {
	t.Helper()
	reply := &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"host"}, Content: []byte("??")}
	enc := encodeOutbox(reply)
	at := 1024 + bytes.Index(enc, []byte("??"))
	return testguest.WATBinary(t, testguest.WATGuest(`
  (data (i32.const 1024) "`+testguest.WATData(enc)+`")
  (global $g (mut i32) (i32.const 0))
  (func (export "_initialize")
    (i32.store (i32.const 32) (i32.add (i32.load (i32.const 32)) (i32.const 1)))
    (global.set $g (i32.const 7)))`, `
    (i32.store8 (i32.const `+strconv.Itoa(at)+`) (i32.add (i32.const 48) (i32.load (i32.const 32))))
    (i32.store8 (i32.const `+strconv.Itoa(at+1)+`) (i32.add (i32.const 48) (global.get $g)))
    (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const `+strconv.Itoa(len(enc))+`))`))
}

func TestAPreinitialisedModuleStartsAfterItsStartUp(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	cfg := sandbox.InstanceConfig{Agent: "pre"}
	pm, err := e.Preinitialize(ctx, initCounter(t), cfg)
	require.NoError(t, err)
	again, err := e.Preinitialize(ctx, initCounter(t), cfg)
	require.NoError(t, err)
	assert.Same(t, pm, again, "made once per module, init data and grants")
	for range 3 {
		in, err := pm.Instantiate(ctx, cfg)
		require.NoError(t, err)
		out, err := in.Handle(ctx, batchOf(1))
		require.NoError(t, err)
		assert.Equal(t, "17", string(out[0].Content), "_initialize ran once, before, and its state is the image")
		require.NoError(t, in.Close())
	}
	// The original module is untouched.
	m, err := e.Compile(ctx, initCounter(t))
	require.NoError(t, err)
	in, err := m.Instantiate(ctx, cfg)
	require.NoError(t, err)
	defer in.Close()
	out, err := in.Handle(ctx, batchOf(1))
	require.NoError(t, err)
	assert.Equal(t, "17", string(out[0].Content))
}

func TestPreinitialisedGuestsBehaveAsFreshOnes(t *testing.T) {
	ctx := context.Background()
	guests := map[string]func(t *testing.T) []byte{
		"c": func(t *testing.T) []byte {
			b, err := os.ReadFile(filepath.Join(testguest.ModuleRoot(), "guest", "c", "agents", "counter.wasm"))
			require.NoError(t, err)
			return b
		},
		"go": func(t *testing.T) []byte { return testguest.Build(t, "counter") },
	}
	for name, code := range guests {
		t.Run(name, func(t *testing.T) {
			e := newEngine(t, sandbox.WithCacheDir(t.TempDir()))
			cfg := sandbox.InstanceConfig{Agent: "counter", Now: func() time.Time { return time.Unix(1e9, 0) }}
			pm, err := e.Preinitialize(ctx, code(t), cfg)
			require.NoError(t, err)
			for range 2 {
				in, err := pm.Instantiate(ctx, cfg)
				require.NoError(t, err)
				assert.Equal(t, []string{"1", "2", "3"}, counts(t, in, 3))
				require.NoError(t, in.Close())
			}
		})
	}
}

func TestPreinitialisationIsRefusedClearly(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for name, wat := range map[string]string{
		"a start function": testguest.WATGuest(`(func $s) (start $s)`, `(i64.const 0)`),
		"passive data": testguest.WATGuest(`(data $d "abc")`,
			`(memory.init $d (i32.const 0) (i32.const 0) (i32.const 3)) (i64.const 0)`),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.Preinitialize(ctx, testguest.WATBinary(t, wat), sandbox.InstanceConfig{Agent: "x"})
			require.ErrorIs(t, err, sandbox.ErrNoPreinit)
		})
	}
}

// A second engine sharing the cache directory loads the pre-initialised
// module from it.
func TestPreinitialisedModulesAreCachedOnDisk(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := sandbox.InstanceConfig{Agent: "pre"}
	code := initCounter(t)
	for range 2 {
		e, err := sandbox.NewEngine(sandbox.WithCacheDir(dir))
		require.NoError(t, err)
		pm, err := e.Preinitialize(ctx, code, cfg)
		require.NoError(t, err)
		in, err := pm.Instantiate(ctx, cfg)
		require.NoError(t, err)
		out, err := in.Handle(ctx, batchOf(1))
		require.NoError(t, err)
		assert.Equal(t, "17", string(out[0].Content))
		require.NoError(t, in.Close())
		require.NoError(t, e.Close())
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.cwasm"))
	require.NoError(t, err)
	assert.Len(t, files, 2, "the module and its pre-initialised form")
}

// A caller whose context ends while the baked module compiles gets its
// error back at once; the compilation finishes in the background and
// fills the cache, and Close waits for it.
func TestPreinitializeContextEndsDuringCompilation(t *testing.T) {
	code := testguest.Build(t, "counter") // 3 MB: its compilation takes far longer than a select
	cfg := sandbox.InstanceConfig{Agent: "counter", Now: func() time.Time { return time.Unix(1e9, 0) }}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a safety net only
	defer cancel()

	e := newEngine(t)
	_, err := e.Compile(ctx, code) // the original, so only the bake is left
	require.NoError(t, err)
	_, err = e.Preinitialize(endsOnSight{context.Background()}, code, cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "goes on in the background")
	pm, err := e.Preinitialize(ctx, code, cfg) // the background result or a second bake: one module
	require.NoError(t, err)
	again, err := e.Preinitialize(ctx, code, cfg)
	require.NoError(t, err)
	assert.Same(t, pm, again)
	in, err := pm.Instantiate(ctx, cfg)
	require.NoError(t, err)
	assert.Equal(t, []string{"1"}, counts(t, in, 1))
	require.NoError(t, in.Close())

	// Close right after an abandoned bake waits for it.
	e2, err := sandbox.NewEngine()
	require.NoError(t, err)
	_, err = e2.Compile(ctx, code)
	require.NoError(t, err)
	_, err = e2.Preinitialize(endsOnSight{context.Background()}, code, cfg)
	require.Error(t, err)
	require.NoError(t, e2.Close())
	_, err = e2.Preinitialize(context.Background(), code, cfg)
	require.ErrorIs(t, err, sandbox.ErrClosed)
}
