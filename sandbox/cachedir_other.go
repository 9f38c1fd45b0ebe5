//go:build !unix

package sandbox

import "time"

// checkCacheDir checks that dir is a directory; ownership and permission
// bits are not portable beyond unix (see the unix version for why they
// matter).
func checkCacheDir(dir string) error {
	_, err := statDir(dir)
	return err
}

// lockCompile has no cross-process lock here: processes sharing a cache
// may compile the same module at once, and the last rename wins.
func lockCompile(string, time.Duration) (func(), bool) { return nil, false }
