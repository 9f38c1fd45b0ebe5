//go:build unix

package auditlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive flock on a file in dir, held until the file is
// closed. flock locks belong to the open file, so a second Open in the same
// process is refused as one in another process is.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("auditlog: Open: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("auditlog: Open %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("auditlog: Open: lock %s: %w", dir, err)
	}
	return f, nil
}

// unlockDir releases the lock.
func unlockDir(f *os.File) error { return f.Close() }
