package caxton_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWASIIsDeniedByDefaultAndGrantedPerAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go guests")
	}
	var logs syncLog
	rt := caxtontest.NewRuntime(t, cachedModules(), caxton.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	code := goGuest(t, "wasi")
	ro, rw := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(ro, "note.txt"), []byte("read-only data"), 0o644))
	t.Setenv("CAXTON_HOST_SECRET", "do-not-leak")

	rt.MustSpawn(caxton.AgentSpec{Name: "jailed", Wasm: &caxton.WasmSpec{Module: code}})
	rt.MustSpawn(caxton.AgentSpec{Name: "trusted", Wasm: &caxton.WasmSpec{Module: code, Grants: sandbox.Grants{
		Dirs: []sandbox.DirGrant{{HostPath: ro, GuestPath: "/ro"}, {HostPath: rw, GuestPath: "/rw", Writable: true}},
		Env:  map[string]string{"REGION": "eu-west"},
		Args: []string{"agent", "--mode=fast"},
	}}})
	ask := func(agent acl.AgentID, cmd string) *acl.Message { return rt.MustRequest(request(cmd, agent)) }

	// Nothing leaks to an agent without grants.
	assert.Equal(t, `"" false`, string(ask("jailed", "env:CAXTON_HOST_SECRET").Content))
	assert.Equal(t, `"" false`, string(ask("jailed", "env:REGION").Content))
	assert.Equal(t, acl.Failure, ask("jailed", "read:/ro/note.txt").Performative)
	assert.Equal(t, acl.Failure, ask("jailed", "read:/etc/passwd").Performative)
	assert.Equal(t, acl.Failure, ask("jailed", "write:/rw/x.txt").Performative)

	// Grants are exactly what was granted.
	assert.Equal(t, `"eu-west" true`, string(ask("trusted", "env:REGION").Content))
	assert.Equal(t, `"" false`, string(ask("trusted", "env:CAXTON_HOST_SECRET").Content))
	assert.Equal(t, "agent --mode=fast", string(ask("trusted", "args").Content))
	assert.Equal(t, "read-only data", string(ask("trusted", "read:/ro/note.txt").Content))
	assert.Equal(t, acl.Failure, ask("trusted", "write:/ro/x.txt").Performative, "a read-only grant refuses writes")
	assert.Equal(t, acl.Inform, ask("trusted", "write:/rw/out.txt").Performative)
	b, err := os.ReadFile(filepath.Join(rw, "out.txt"))
	require.NoError(t, err)
	assert.Equal(t, "written by the guest", string(b))
	assert.Equal(t, acl.Failure, ask("trusted", "read:/etc/passwd").Performative, "nothing outside the grants")

	// stdout and stderr go to the agent's log, not the host's stdout.
	assert.Equal(t, "printed", string(ask("jailed", "print:hello from the sandbox").Content))
	assert.Contains(t, logs.String(), `msg="hello from the sandbox" agent=jailed stream=stdout`)
	assert.Contains(t, logs.String(), `msg="err:hello from the sandbox" agent=jailed stream=stderr`)
}
