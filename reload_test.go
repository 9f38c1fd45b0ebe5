package caxton_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hot reload: a wasm agent whose file changes is upgraded blue-green; a
// change that is not a module is rolled back and the agent keeps running.
func TestHotReloadUpgradesOnFileChange(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
	watcher := caxtontest.NewRecorder(t, rt.Runtime, "watcher")
	says := func(content string) []byte {
		return testguest.WATBinary(t, testguest.WATOutbox(&acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"watcher"}, Content: []byte(content)}))
	}
	file := filepath.Join(t.TempDir(), "agent.wasm")
	require.NoError(t, os.WriteFile(file, says("v1"), 0o600))
	rt.MustSpawn(caxton.AgentSpec{Name: "dev", Wasm: &caxton.WasmSpec{File: file, Reload: time.Second}})
	eventsUntil(t, events, caxton.EventSpawned)

	poke := func(want string) {
		t.Helper()
		before := watcher.Len()
		rt.MustSend(lcMsg("dev", "poke"))
		got := watcher.AwaitN(t, before+1)
		assert.Equal(t, want, string(got[before].Content))
	}
	poke("v1")
	rt.AdvanceWhenWaiting(1, time.Second) // unchanged: nothing happens
	require.NoError(t, os.WriteFile(file, says("v2"), 0o600))
	rt.AdvanceWhenWaiting(1, time.Second)
	e := eventsUntil(t, events, caxton.EventUpgradePromoted)
	assert.Equal(t, "v1 → v2", e[len(e)-1].Detail)
	poke("v2")

	require.NoError(t, os.WriteFile(file, []byte("not a module"), 0o600))
	rt.AdvanceWhenWaiting(1, time.Second)
	e = eventsUntil(t, events, caxton.EventUpgradeRolledBack)
	assert.Contains(t, e[len(e)-1].Detail, "hot reload")
	poke("v2")
	assert.Equal(t, "v2", lcInfo(t, rt, "dev").Version)

	var se *caxton.SpecError
	require.ErrorAs(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "bad", Wasm: &caxton.WasmSpec{Module: says("x"), Reload: time.Second}}), &se)
	assert.Equal(t, "Wasm.Reload", se.Field)
}
