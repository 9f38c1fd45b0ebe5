//go:build unix

package durable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockWait bounds how long Open retries a held lock. A child process
// forked by any goroutine of this process holds a copy of every descriptor,
// the lock's among them, until it execs: a store closed and reopened while
// some goroutine starts a subprocess (an MCP server, a test binary) finds
// its own lock held for that moment. Another store's lock is held for
// longer than this, and is then reported as ErrLocked.
const lockWait = time.Second

// lockDir takes the directory's lock: an exclusive flock on a file in it,
// held until the returned file is closed. flock locks belong to the open
// file, not the process, so a second Open in the same process is refused
// just like one in another process (the storage engine's own lock tells the
// two apart with an untyped error).
func lockDir(dir string) (*os.File, error) { return lockDirWithin(dir, lockWait) }

// lockDirWithin is lockDir retrying a held lock for at most wait.
func lockDirWithin(dir string, wait time.Duration) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("durable: Open: %w", err)
	}
	deadline, pause := time.Now().Add(wait), time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EAGAIN) {
			f.Close()
			return nil, fmt.Errorf("durable: Open: lock %s: %w", dir, err)
		}
		if time.Now().Add(pause).After(deadline) {
			f.Close()
			return nil, &LockedError{Dir: dir}
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
