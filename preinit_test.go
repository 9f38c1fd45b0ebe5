package caxton_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/internal/testenv"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// prebake bakes w's module (no init data, no grants: the tests' agents)
// into moduleCache before a Spawn does, as goGuest compiles: baking and
// compiling a Go guest on a cold, loaded machine takes longer than a
// test Spawn's context.
func prebake(t *testing.T, w *caxton.WasmSpec) {
	t.Helper()
	code, cfg := w.Module, sandbox.InstanceConfig{Agent: "prebake"}
	if len(code) == 0 {
		var err error
		code, err = os.ReadFile(w.File)
		require.NoError(t, err)
		if strings.HasSuffix(w.File, ".js") { // a script: the engine bakes it
			code, cfg.Init = js.Engine(), code
		}
	}
	e, err := sandbox.NewEngine(sandbox.WithCacheDir(moduleCache))
	require.NoError(t, err)
	defer e.Close()
	_, err = e.Preinitialize(context.Background(), code, cfg)
	require.NoError(t, err)
}

// Agents started from their pre-initialised module behave as fresh ones:
// every replica starts from the state after start-up, counts from one,
// and keeps its own count; a replaced instance starts over.
func TestPreinitialisedAgentsBehaveAsFreshOnes(t *testing.T) {
	for _, g := range counterGuests(t) {
		t.Run(string(g.name), func(t *testing.T) {
			rt := caxtontest.NewRuntime(t, cachedModules())
			spec := g.spec()
			spec.Wasm.Preinit = true
			prebake(t, spec.Wasm)
			rt.MustSpawn(spec)
			countTo(t, rt, g.name, 1, 3)
			// A second agent of the same module starts from the same image.
			spec.Name = g.name + "-2"
			rt.MustSpawn(spec)
			countTo(t, rt, spec.Name, 1, 2)
			countTo(t, rt, g.name, 4, 1)
		})
	}
}

// Pre-initialised and hibernating: the two work together.
func TestPreinitialisedAgentsHibernate(t *testing.T) {
	rt := caxtontest.NewRuntime(t, cachedModules())
	events := rt.Watch(t.Context(), 64)
	spec := wasmAgent("go-counter", goGuest(t, "counter"))
	spec.Wasm.Preinit, spec.Wasm.Hibernate = true, time.Minute
	prebake(t, spec.Wasm)
	rt.MustSpawn(spec)
	countTo(t, rt, "go-counter", 1, 2)
	rt.AdvanceWhenWaiting(1, time.Minute)
	awaitEvent(t, events, caxton.EventHibernated, "go-counter")
	countTo(t, rt, "go-counter", 3, 2)
}

func TestPreinitIsRefusedForModulesItCannotBake(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	err := rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: "started",
		Wasm: &caxton.WasmSpec{WAT: testguest.WATGuest(`(func $s) (start $s)`, `(i64.const 0)`), Preinit: true}})
	require.ErrorIs(t, err, caxton.ErrInvalidSpec)
	var se *caxton.SpecError
	require.True(t, errors.As(err, &se))
	assert.Equal(t, "Wasm.Preinit", se.Field)
	assert.Contains(t, se.Reason, "start function")
}

// A JavaScript agent's engine set-up and script run once: its instances
// start from the baked state and answer as a fresh engine does. (A long
// test: baking compiles the engine anew per script, seconds when cold.)
func TestPreinitialisedJavaScriptAgents(t *testing.T) {
	testenv.SkipUnlessLong(t, "compiles a baked JavaScript engine")
	rt := jsRuntime(t)
	for _, file := range []string{"counter.js", "echo.js"} {
		spec := jsAgent(acl.AgentID("js-"+file), file)
		spec.Wasm.Preinit = true
		prebake(t, spec.Wasm)
		rt.MustSpawn(spec)
	}
	countTo(t, rt, "js-counter.js", 1, 3)
	reply := rt.MustRequest(request("bonjour", "js-echo.js"))
	assert.Equal(t, "bonjour", string(reply.Content))
}
