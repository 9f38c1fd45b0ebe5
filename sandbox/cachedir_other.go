//go:build !unix

package sandbox

import (
	"fmt"
	"os"
	"time"
)

// checkCacheDir checks that dir is a directory; ownership and permission
// bits are not portable beyond unix (see the unix version for why they
// matter).
func checkCacheDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// lockCompile has no cross-process lock here: processes sharing a cache
// may compile the same module at once, and the last rename wins.
func lockCompile(string, time.Duration) (func(), bool) { return nil, false }
