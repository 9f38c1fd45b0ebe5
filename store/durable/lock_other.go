//go:build !unix

package durable

import (
	"os"
	"path/filepath"
)

// lockDir opens the lock file; on this platform the storage engine's own
// lock is what refuses a second Open (reported as ErrLocked by Open).
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
}
