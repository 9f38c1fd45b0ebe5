//go:build cgo

package sandbox

/*
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#define CAXTON_HAVE_RELEASE 1
static int caxton_release_native(void) { return malloc_trim(0); }
#else
#define CAXTON_HAVE_RELEASE 0
static int caxton_release_native(void) { return 0; }
#endif
*/
import "C"

import (
	"sync"
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
// the process kept their high-water mark, and long churn left free memory
// scattered between live allocations: 100,000 hibernated C agents held 284
// MiB of their 948 MiB RSS in free C memory (BENCHMARKS.md, "Native
// memory"). malloc_trim(0) returns free pages from anywhere in the heaps.
// Go's own heap needs nothing: its scavenger does the same for it.
//
// It is process-wide on purpose, like liveStores: the allocator is the
// process's, whichever engine closed the instances.
var nativeMem = newReleaser(
	liveStores.n.Load,
	func() bool { return C.caxton_release_native() == 1 },
	func(f func()) { go f() },
	func(d time.Duration, f func()) { time.AfterFunc(d, f) },
)

// haveNativeRelease reports whether the C library can give free memory
// back (glibc); elsewhere ReleaseNativeMemory releases nothing.
var haveNativeRelease = C.CAXTON_HAVE_RELEASE == 1

// When a release is due. Not on churn alone: an instance that opens as
// another closes reuses the memory the other freed, and a release walks
// every arena's free lists under its lock (8 ms with nothing to give back
// at 100,000 agents, 222 ms for the first release after their hibernation)
// and hands pages back that the next instances fault in again. So a
// release follows a fall of releaseDrop live instances below their peak
// since the last one (a mass hibernation, a burst's end), or releaseChurn
// closes (the free memory long churn scatters), and never comes within
// releaseGap of the last.
const (
	releaseDrop  = 4096
	releaseChurn = 64 * releaseDrop
	releaseGap   = time.Second
)

// releaser decides when to release and runs one release at a time. Its
// clock, release and scheduling are fields so tests drive it without
// instances or waiting.
type releaser struct {
	closes atomic.Int64 // instances closed since the last release
	peak   atomic.Int64 // the most instances live since the last release
	last   atomic.Int64 // when the last release started (now's scale)
	queued atomic.Bool  // a release goroutine or timer is pending
	mu     sync.Mutex   // held while releasing: one release at a time

	releases atomic.Uint64 // releases run (tests, figures)
	live     func() int64  // instances alive now
	now      func() time.Duration
	release  func() bool
	start    func(func())                // runs a release in the background
	after    func(time.Duration, func()) // runs a release after a delay
}

func newReleaser(live func() int64, release func() bool, start func(func()), after func(time.Duration, func())) *releaser {
	epoch := time.Now()
	return &releaser{live: live, now: func() time.Duration { return time.Since(epoch) }, release: release, start: start, after: after}
}

// opened raises the peak to the instances alive now (one was just opened).
func (r *releaser) opened() {
	live := r.live()
	for p := r.peak.Load(); live > p && !r.peak.CompareAndSwap(p, live); p = r.peak.Load() {
	}
}

// closed counts an instance's close and starts a release in the
// background, or arms one for the end of the gap, when one is due. The
// common case is an atomic add and two loads.
func (r *releaser) closed() {
	n := r.closes.Add(1)
	if n < releaseChurn && r.peak.Load()-r.live() < releaseDrop {
		return
	}
	if !r.queued.CompareAndSwap(false, true) {
		return // one is pending already
	}
	if wait := releaseGap - (r.now() - time.Duration(r.last.Load())); wait > 0 {
		// Due but too soon: release when the gap is over, even if no
		// instance closes after this one (the end of a mass hibernation).
		r.after(wait, r.background)
		return
	}
	r.start(r.background)
}

// background runs the release a closed call queued.
func (r *releaser) background() {
	defer r.queued.Store(false)
	r.releaseNow()
}

// releaseNow releases at once, after any release in progress.
func (r *releaser) releaseNow() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closes.Add(-r.closes.Load()) // closes counted from here on stay counted
	r.peak.Store(r.live())         // the next fall is measured from here
	r.last.Store(int64(r.now()))
	r.releases.Add(1)
	return r.release()
}

// ReleaseNativeMemory gives the memory that closed instances left with the
// C allocator back to the operating system now, and reports whether any
// was given back. The sandbox does this by itself in the background (after
// a fall of 4,096 live instances, or 262,144 closes, and at most once a
// second); a host may call it after a phase it knows freed many instances
// — a mass hibernation, removing thousands of wasm agents — to see the RSS
// fall at once. It took 222 ms to give back 284 MiB (8 ms with nothing to
// give back), and allocations in the C heap wait for it meanwhile, so it
// is not for a hot path. Where the C library is not glibc it releases
// nothing and returns false.
func ReleaseNativeMemory() bool { return nativeMem.releaseNow() }
