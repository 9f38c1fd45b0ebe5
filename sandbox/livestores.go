//go:build cgo

package sandbox

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrTooManyInstances is wrapped by Instantiate and Restore when the
// process already holds as many live instances as it safely can.
var ErrTooManyInstances = errors.New("sandbox: too many live instances in this process")

// liveStores counts the instances alive in the process, across engines.
//
// It is process-wide on purpose: the limit it guards is the kernel's
// per-process cap on memory mappings (vm.max_map_count, 65,530 by
// default). Every store maps its linear memory as two regions, and once
// the process runs out of mappings wasmtime cannot even set up a thread's
// signal stack: it aborts the whole process (seen in a load run that held
// ~30,000 C agents live at once). Refusing one more instance with an error
// is the difference between a failed start and a crashed host.
var liveStores struct {
	n    atomic.Int64
	once sync.Once
	max  int64
}

// mapsPerStore is what one instance costs in mappings, with a margin (2
// measured for a C agent: the reservation and its accessible part).
const mapsPerStore = 3

// mapsReserved are the mappings left to everything else: the Go heap, the
// threads' stacks and signal stacks, shared libraries, compiled code.
const mapsReserved = 16384

// maxLiveStores is the process's limit: what vm.max_map_count leaves after
// mapsReserved, at mapsPerStore each.
func maxLiveStores() int64 {
	liveStores.once.Do(func() {
		limit := int64(65530)
		if b, err := os.ReadFile("/proc/sys/vm/max_map_count"); err == nil {
			if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 {
				limit = v
			}
		}
		liveStores.max = max(limit-mapsReserved, mapsReserved) / mapsPerStore
	})
	return liveStores.max
}

// takeStore counts one more live instance, or fails when the process is at
// its limit. A successful take is paired with releaseStore.
func takeStore() bool {
	if liveStores.n.Add(1) > maxLiveStores() {
		liveStores.n.Add(-1)
		return false
	}
	nativeMem.opened()
	return true
}

// releaseStore counts a live instance's end (its store closed), which may
// start a release of the C allocator's free memory (nativemem.go).
func releaseStore() {
	liveStores.n.Add(-1)
	nativeMem.closed()
}

// LiveInstances returns how many instances are alive in the process, and
// the most it allows (see ErrTooManyInstances).
func LiveInstances() (live, limit int64) { return liveStores.n.Load(), maxLiveStores() }
