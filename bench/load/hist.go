package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// subBits is the precision of hist: each power of two is split into
// 2^subBits buckets, so a reported percentile is at most 1/2^subBits
// (6.25 %) above the true value — never below.
const subBits = 4

// hist is a log-linear latency histogram that many goroutines record into
// without a lock (the idea of HdrHistogram, at a fixed coarse precision).
type hist struct {
	counts [64 << subBits]atomic.Uint64
	n, sum atomic.Uint64
	max    atomic.Int64
}

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	exp := bits.Len64(v) - subBits - 1 // v >> exp has subBits+1 bits
	return (exp+1)<<subBits + int(v>>exp) - 1<<subBits
}

// upper returns the largest value bucket b holds.
func upper(b int) uint64 {
	if b < 1<<subBits {
		return uint64(b)
	}
	exp := b>>subBits - 1
	mant := uint64(b&(1<<subBits-1)) + 1<<subBits
	return (mant+1)<<exp - 1
}

func (h *hist) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if int64(v) <= m || h.max.CompareAndSwap(m, int64(v)) {
			return
		}
	}
}

// quantile returns the bucket bound at or below which a fraction q of the
// recorded values lie.
func (h *hist) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	for b := range h.counts {
		if seen += h.counts[b].Load(); seen >= max(rank, 1) {
			return time.Duration(min(upper(b), uint64(h.max.Load())))
		}
	}
	return time.Duration(h.max.Load())
}

func (h *hist) mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}
