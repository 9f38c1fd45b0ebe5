//go:build !unix

package auditlog

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir creates the lock file exclusively; a Log that crashed leaves it
// behind, and it must then be removed by hand.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if os.IsExist(err) {
		return nil, fmt.Errorf("auditlog: Open %s: %w", dir, ErrLocked)
	}
	return f, err
}

// unlockDir releases the lock by removing its file.
func unlockDir(f *os.File) error {
	err := f.Close()
	if rerr := os.Remove(f.Name()); err == nil {
		err = rerr
	}
	return err
}
