//go:build cgo

package sandbox

/*
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
static int caxton_release_native(void) { return malloc_trim(0); }
#else
static int caxton_release_native(void) { return 0; }
#endif
*/
import "C"

import (
	"sync/atomic"
	"time"
)

// nativeMem gives the C allocator's free memory back to the operating
// system now and then.
//
// wasmtime allocates a store's bookkeeping (its instance, functions,
// tables' metadata, the WASI context) with the C allocator, not the Go
// heap. glibc's allocator keeps what a closed store frees for reuse and
// returns to the system only what lies at the top of a heap, so after a
// phase that ran many instances — a warm-up, a burst, a mass hibernation —
// the process keeps their high-water mark for good: 100,000 hibernated C
// agents held 284 MiB of their 948 MiB RSS in free C memory
// (BENCHMARKS.md, "Native memory"). malloc_trim(0) returns free pages from
// anywhere in the heaps. Go's own heap needs nothing: its scavenger does
// the same for it.
//
// It is process-wide on purpose, like liveStores: the allocator is the
// process's, whichever engine closed the instances.
var nativeMem struct {
	closes   atomic.Int64 // instances closed since the last release
	last     atomic.Int64 // when the last release started, nanoseconds after epoch
	running  atomic.Bool  // a release is in progress
	releases atomic.Uint64
	epoch    time.Time // a monotonic origin for last
}

// Releases happen in the background after releaseEvery closes, at most
// once per releaseGap. A release walks every arena's free lists under its
// lock (~8 ms with nothing to give back, 220 ms for the first release after
// 100,000 hibernations), so it is rare enough to cost well under 1 % of a
// core and frequent enough that each gives back little.
const (
	releaseEvery = 4096
	releaseGap   = time.Second
)

func init() { nativeMem.epoch = time.Now() }

// releaseDue reports whether a release is due after closes closes, since
// the last release started.
func releaseDue(closes int64, sinceLast time.Duration) bool {
	return closes >= releaseEvery && sinceLast >= releaseGap
}

// closedStore counts an instance's close and starts a release in the
// background when one is due.
func closedStore() {
	n := nativeMem.closes.Add(1)
	if n < releaseEvery {
		return // the common case: one atomic add
	}
	since := time.Duration(int64(time.Since(nativeMem.epoch)) - nativeMem.last.Load())
	if !releaseDue(n, since) || !nativeMem.running.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer nativeMem.running.Store(false)
		releaseNative()
	}()
}

// releaseNative gives the allocator's free pages back now.
func releaseNative() bool {
	nativeMem.closes.Store(0)
	nativeMem.last.Store(int64(time.Since(nativeMem.epoch)))
	nativeMem.releases.Add(1)
	return C.caxton_release_native() == 1
}

// ReleaseNativeMemory gives the memory that closed instances left with the
// C allocator back to the operating system now, and reports whether any
// was given back. The sandbox does this by itself in the background (after
// every few thousand instance closes, at most once a second); a host may
// call it after a phase it knows freed many instances — a mass
// hibernation, removing thousands of wasm agents — to see the RSS fall at
// once. It takes a few milliseconds per hundred megabytes the allocator
// holds, and allocations wait for it meanwhile, so it is not for a hot
// path. It does nothing (false) where the C library is not glibc.
func ReleaseNativeMemory() bool { return releaseNative() }
