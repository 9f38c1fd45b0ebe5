package durable_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/caxton-go/caxton/store/durable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A directory holds one open store at a time. A second Open — in this
// process or another — fails with ErrLocked naming the directory, instead
// of the storage engine's untyped "lock held by current process".
func TestOpenTwiceIsErrLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := durable.Open(dir)
	require.NoError(t, err)
	_, err = durable.Open(dir)
	require.ErrorIs(t, err, durable.ErrLocked)
	var le *durable.LockedError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, dir, le.Dir)
	assert.Contains(t, err.Error(), dir)

	if os.Getenv("DURABLE_LOCK_CHILD") == "" {
		// Another process: run this test as a child against the same dir.
		cmd := exec.Command(os.Args[0], "-test.run", "^TestOpenLockedByAnotherProcess$")
		cmd.Env = append(os.Environ(), "DURABLE_LOCK_CHILD="+dir)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "PASS")
	}

	require.NoError(t, s.Close())
	s2, err := durable.Open(dir)
	require.NoError(t, err, "the lock goes with Close")
	require.NoError(t, s2.Close())
}

// TestOpenLockedByAnotherProcess runs in a child process started by
// TestOpenTwiceIsErrLocked, while the parent holds the store open.
func TestOpenLockedByAnotherProcess(t *testing.T) {
	dir := os.Getenv("DURABLE_LOCK_CHILD")
	if dir == "" {
		t.Skip("run by TestOpenTwiceIsErrLocked")
	}
	_, err := durable.Open(filepath.Clean(dir))
	require.ErrorIs(t, err, durable.ErrLocked)
}
