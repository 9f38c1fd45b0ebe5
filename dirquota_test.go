package caxton_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/sandbox"
)

// TestGrantedDirectoryByteQuota: a guest that fills its writable grant
// past MaxBytes finishes the batch that crossed it, then is refused — a
// *QuotaError naming the agent and the directory, a dead letter, an audit
// record — until the host frees space.
func TestGrantedDirectoryByteQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go guests")
	}
	rt := caxtontest.NewRuntime(t, cachedModules())
	code := goGuest(t, "wasi")
	rw := t.TempDir()
	// The directory and each small file count 4 KiB: room for two files.
	rt.MustSpawn(caxton.AgentSpec{Name: "writer", Wasm: &caxton.WasmSpec{Module: code, Grants: sandbox.Grants{
		Dirs: []sandbox.DirGrant{{HostPath: rw, GuestPath: "/rw", Writable: true, MaxBytes: 3 * 4096}},
	}}})
	ask := func(cmd string) (*acl.Message, error) {
		return rt.Request(caxtontest.Context(t), request(cmd, "writer"))
	}
	for _, f := range []string{"a", "b", "c"} { // c crosses the bound: that batch still goes ahead
		reply, err := ask("write:/rw/" + f)
		require.NoError(t, err)
		assert.Equal(t, acl.Inform, reply.Performative, f)
	}
	_, err := ask("write:/rw/d")
	var dle *caxton.DeadLetteredError
	require.ErrorAs(t, err, &dle, "refused: the request is dead-lettered and answered")
	_, err = os.Stat(filepath.Join(rw, "d"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "the refused batch never ran")

	dead, err := rt.DeadLetters(caxtontest.Context(t))
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Contains(t, dead[0].LastError, `agent "writer": directory bytes /rw quota of 12288 exceeded`)
	assert.Equal(t, 1, dead[0].Attempts, "a quota refusal is not retried")

	info, err := rt.Agent("writer")
	require.NoError(t, err)
	assert.Positive(t, info.QuotaHits)
	var audited []caxton.AuditRecord
	for _, r := range rt.Audit() {
		if r.Kind == caxton.AuditQuota {
			audited = append(audited, r)
		}
	}
	require.NotEmpty(t, audited)
	assert.Equal(t, "agent:writer", audited[0].Subject)
	assert.Equal(t, "write", audited[0].Action)
	assert.Equal(t, "dir:/rw", audited[0].Target)
	assert.False(t, audited[0].Allowed)

	// The host frees space: the agent works again.
	require.NoError(t, os.Remove(filepath.Join(rw, "a")))
	require.NoError(t, os.Remove(filepath.Join(rw, "b")))
	reply, err := ask("write:/rw/e")
	require.NoError(t, err)
	assert.Equal(t, acl.Inform, reply.Performative)
}

func TestGrantedDirectoryQuotaIsChecked(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	for _, tc := range []struct {
		grant sandbox.DirGrant
		want  string
	}{
		{sandbox.DirGrant{HostPath: t.TempDir(), GuestPath: "/rw", Writable: true, MaxBytes: -1}, "Wasm.Grants.Dirs[0].MaxBytes: -1 is negative"},
		{sandbox.DirGrant{HostPath: t.TempDir(), GuestPath: "/ro", MaxBytes: 10}, "Wasm.Grants.Dirs[0].MaxBytes: a read-only grant cannot grow"},
	} {
		err := rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: "a", Wasm: &caxton.WasmSpec{WAT: `(module)`, Grants: sandbox.Grants{Dirs: []sandbox.DirGrant{tc.grant}}}})
		require.ErrorIs(t, err, caxton.ErrInvalidSpec)
		assert.Contains(t, err.Error(), tc.want)
	}
}
