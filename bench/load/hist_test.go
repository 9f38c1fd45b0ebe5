//go:build bench

// Run with go test -tags bench ./bench/... (CI does; see the README).

package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBucketsCoverEveryValueWithinPrecision(t *testing.T) {
	for _, v := range []uint64{0, 1, 15, 16, 17, 31, 32, 33, 1000, 123456, 1 << 40, 1<<63 + 12345} {
		b := bucketOf(v)
		require.GreaterOrEqual(t, upper(b), v, "value %d", v)
		if b > 0 {
			require.Less(t, upper(b-1), v, "value %d is in the lowest bucket that holds it", v)
		}
		assert.LessOrEqual(t, float64(upper(b)-v), float64(v)/16+1, "value %d", v)
	}
}

func TestQuantilesOfAUniformSpread(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {0.999, 999 * time.Microsecond}, {1, time.Millisecond}} {
		got := h.quantile(c.q)
		assert.GreaterOrEqual(t, got, c.want, "q=%v", c.q)
		assert.LessOrEqual(t, float64(got), float64(c.want)*1.0625, "q=%v", c.q)
	}
	assert.InDelta(t, float64(500500*time.Nanosecond), float64(h.mean()), float64(time.Microsecond))
	assert.Equal(t, time.Millisecond, h.quantile(1), "the maximum is exact")
}
