//go:build unix

package durable

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// A child process that inherited the lock's descriptor (as one forked by
// any goroutine does until it execs) holds the lock after the store that
// took it closed. Open waits such a moment out instead of reporting the
// directory locked; a store reopened while an MCP server starts must not
// fail.
func TestOpenOutwaitsALockHeldByAForkedChild(t *testing.T) {
	dir := t.TempDir()
	lock, err := lockDir(dir)
	require.NoError(t, err)
	cat := exec.Command("cat") // holds the inherited descriptor until its stdin closes
	cat.ExtraFiles = []*os.File{lock}
	stdin, err := cat.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cat.Start())
	require.NoError(t, lock.Close()) // the store closed: only the child holds it now

	_, err = lockDirWithin(dir, 0)
	require.ErrorIs(t, err, ErrLocked, "the child holds the lock")
	opened := make(chan error, 1)
	go func() {
		s, err := Open(dir)
		if err == nil {
			err = s.Close()
		}
		opened <- err
	}()
	require.NoError(t, stdin.Close())
	require.NoError(t, cat.Wait())
	require.NoError(t, <-opened)
}
