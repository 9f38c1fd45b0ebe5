//go:build unix

package durable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes the directory's lock: an exclusive flock on a file in it,
// held until the returned file is closed. flock locks belong to the open
// file, not the process, so a second Open in the same process is refused
// just like one in another process (the storage engine's own lock tells the
// two apart with an untyped error).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("durable: Open: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN) {
			return nil, &LockedError{Dir: dir}
		}
		return nil, fmt.Errorf("durable: Open: lock %s: %w", dir, err)
	}
	return f, nil
}
