//go:build unix

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// checkCacheDir refuses a cache directory that another user could write
// to. wasmtime trusts a serialized module completely — loading one runs its
// machine code in this process — so whoever can put a file in the cache can
// run code with this process's rights (a shared /tmp/x created by someone
// else, a directory left group-writable). The checksum on each artifact
// guards against corruption, not against that.
func checkCacheDir(dir string) error {
	fi, err := statDir(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s belongs to user %d, not to this process's user %d (compiled modules in it run with this process's rights)",
			ErrUnsafeCacheDir, dir, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: %s is writable by other users (mode %v; compiled modules in it run with this process's rights: chmod go-w it)",
			ErrUnsafeCacheDir, dir, fi.Mode().Perm())
	}
	return nil
}

// lockCompile takes the lock that makes processes sharing a cache compile a
// module once between them: the first to miss compiles while the others
// wait, then find its artifact. It waits at most wait (a holder that hangs
// must not stop everyone else; the waiter then compiles itself, which is
// only slower); ok is false if it did not get the lock. A process that dies
// holding it releases it with its descriptors. The lock file stays beside
// the artifact: removing it on unlock would let a third process lock a
// file the second is about to lock by another descriptor.
func lockCompile(path string, wait time.Duration) (unlock func(), ok bool) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false
	}
	got := make(chan error, 1)
	go func() {
		for {
			err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
			if !errors.Is(err, syscall.EINTR) {
				got <- err
				return
			}
		}
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, false
		}
		return func() { f.Close() }, true // closing releases the lock
	case <-timer.C:
		// The waiting goroutine ends when the holder lets go: it then
		// releases the lock at once.
		go func() { <-got; f.Close() }()
		return nil, false
	}
}
