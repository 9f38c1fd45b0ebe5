package testenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// ModuleCache is the directory the tests' sandboxes share compiled guests
// in (sandbox.WithCacheDir): the user's cache directory, like Go's build
// cache, so a guest compiles once per machine and user rather than once per
// test binary (a Go guest takes seconds cold). The sandbox
// refuses a cache another user can write to, so a directory in a shared
// /tmp would have to carry the user's id; without a user cache directory
// (no $HOME) it does.
func ModuleCache() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "caxton", "modules")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("caxton-modules-%d", os.Getuid()))
}
