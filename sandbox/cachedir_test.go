//go:build unix

package sandbox_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A compiled module runs as machine code when loaded, so a cache another
// user can write to is refused rather than trusted.
func TestCacheDirOthersCanWriteIsRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"world-writable", func(t *testing.T, dir string) { require.NoError(t, os.Chmod(dir, 0o777)) }},
		{"group-writable", func(t *testing.T, dir string) { require.NoError(t, os.Chmod(dir, 0o770)) }},
		{"another user's", func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give the directory away")
			}
			require.NoError(t, os.Chown(dir, 65534, 65534))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			require.NoError(t, os.Mkdir(dir, 0o700))
			tt.setup(t, dir)
			_, err := sandbox.NewEngine(sandbox.WithCacheDir(dir))
			require.ErrorIs(t, err, sandbox.ErrUnsafeCacheDir)
			assert.Contains(t, err.Error(), dir)
		})
	}

	// A directory it creates is this user's alone.
	dir := filepath.Join(t.TempDir(), "new", "cache")
	newEngine(t, sandbox.WithCacheDir(dir))
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm()&^umask())
}

func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}

// Processes sharing a cache compile a module once between them: one that
// misses while another compiles waits for that artifact and loads it. The
// test plays the other process: it holds the module's compile lock, waits
// until the engine is queued on it (/proc/locks shows the waiter), puts the
// artifact in place and lets go; the engine must load that file, not
// compile and replace it.
func TestCompileWaitsForAnotherProcessCompilingTheSameModule(t *testing.T) {
	if _, err := os.Stat("/proc/locks"); err != nil {
		t.Skip("needs Linux's /proc/locks to see the engine wait")
	}
	// The artifact, made by a first "process" in a directory of its own.
	elsewhere := t.TempDir()
	_, err := newEngine(t, sandbox.WithCacheDir(elsewhere)).CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	made, err := filepath.Glob(filepath.Join(elsewhere, "*.cwasm"))
	require.NoError(t, err)
	require.Len(t, made, 1)
	name := filepath.Base(made[0])

	dir := t.TempDir()
	lock, err := os.OpenFile(filepath.Join(dir, name+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX))
	fi, err := lock.Stat()
	require.NoError(t, err)
	inode := fi.Sys().(*syscall.Stat_t).Ino

	e := newEngine(t, sandbox.WithCacheDir(dir))
	done := make(chan error, 1)
	go func() {
		_, err := e.CompileText(context.Background(), testguest.WATNop)
		done <- err
	}()
	deadline := time.Now().Add(time.Minute) // a safety net: the wait is for an event
	for !waiterOn(t, inode) {
		select {
		case err := <-done:
			t.Fatalf("Compile returned (%v) while another process held the module's compile lock", err)
		default:
		}
		require.True(t, time.Now().Before(deadline), "the engine never waited on the compile lock")
		time.Sleep(time.Millisecond)
	}
	artifact := filepath.Join(dir, name)
	blob, err := os.ReadFile(made[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(artifact, blob, 0o600))
	placed, err := os.Stat(artifact)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_UN))

	require.NoError(t, <-done)
	after, err := os.Stat(artifact)
	require.NoError(t, err)
	assert.True(t, os.SameFile(placed, after), "the engine compiled the module again instead of loading the other process's artifact")
}

// waiterOn reports whether /proc/locks lists a process blocked on the lock
// of the file with inode ino ("-> FLOCK ... maj:min:ino").
func waiterOn(t *testing.T, ino uint64) bool {
	f, err := os.Open("/proc/locks")
	require.NoError(t, err)
	defer f.Close()
	suffix := fmt.Sprintf(":%d ", ino)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text() + " "
		if strings.Contains(line, "->") && strings.Contains(line, "FLOCK") && strings.Contains(line, suffix) {
			return true
		}
	}
	return false
}
