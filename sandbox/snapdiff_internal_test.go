package sandbox

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// restoreFrom is what Restore does to memory: the image (cut to the
// memory's size, zeros past its end), then the runs.
func restoreFrom(t testing.TB, base, runs []byte, size int) []byte {
	mem := make([]byte, size)
	copy(mem, base)
	require.NoError(t, applyRuns(mem, runs))
	return mem
}

func TestDiffRunsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		base := make([]byte, r.IntN(3000))
		for i := range base {
			if r.IntN(4) == 0 {
				base[i] = byte(r.Uint32())
			}
		}
		mem := make([]byte, r.IntN(3000))
		copy(mem, base)
		for range r.IntN(40) {
			if len(mem) == 0 {
				break
			}
			at := r.IntN(len(mem))
			for k := r.IntN(20); k > 0 && at < len(mem); k-- {
				mem[at] = byte(r.Uint32())
				at++
			}
		}
		runs := diffRuns(mem, base)
		got := restoreFrom(t, base, runs, len(mem))
		require.Equal(t, mem, got, "round %d", round)
	}
}

func TestDiffRunsKeepOnlyWhatChanged(t *testing.T) {
	base := make([]byte, 64<<10)
	mem := bytes.Clone(base)
	assert.Nil(t, diffRuns(mem, base), "equal memories: no runs")
	mem[100], mem[102] = 1, 2 // one run: the gap is short
	mem[40000] = 3            // another, far away
	runs := diffRuns(mem, base)
	want := []byte{100, 3, 1, 0, 2}              // skip 100, 3 bytes: 1 0 2
	want = binary.AppendUvarint(want, 40000-103) // skip to 40000
	want = append(want, 1, 3)                    // 1 byte: 3
	assert.Equal(t, want, runs)
	assert.Equal(t, mem, restoreFrom(t, base, runs, len(mem)))

	// Past the image's end memory is compared with zeros.
	grown := make([]byte, len(base)+wasmPage)
	copy(grown, mem)
	grown[len(base)+5] = 9
	assert.Equal(t, grown, restoreFrom(t, base, diffRuns(grown, base), len(grown)))
}

func TestApplyRunsRefusesRunsThatDoNotFit(t *testing.T) {
	for name, runs := range map[string][]byte{
		"past the end":       {10, 4, 1, 2, 3, 4},
		"skip past the end":  {200, 1},
		"truncated bytes":    {0, 5, 1, 2},
		"truncated header":   {0x80},
		"huge length":        {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"length after a run": {0, 1, 7, 0x80},
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, applyRuns(make([]byte, 12), runs), errBadRuns)
		})
	}
}

// FuzzSnapshotRuns: applying any bytes never panics or writes out of
// bounds, and diffRuns round-trips whatever the fuzzer makes of memory.
func FuzzSnapshotRuns(f *testing.F) {
	f.Add([]byte{0, 1, 7}, []byte{1, 2, 3, 4}, uint16(2))
	f.Add([]byte{10, 4, 1, 2, 3, 4}, []byte{}, uint16(9))
	f.Fuzz(func(t *testing.T, runs, mem []byte, baseLen uint16) {
		_ = applyRuns(make([]byte, 16), runs)
		// An image shorter or longer than memory (start-up may have grown
		// another instance's memory more), differing from it here and there.
		base := make([]byte, int(baseLen)%(2*len(mem)+2))
		copy(base, mem)
		for i := range base {
			if i%5 == 0 {
				base[i] ^= byte(i*7 + 1)
			}
		}
		got := restoreFrom(t, base, diffRuns(mem, base), len(mem))
		if !bytes.Equal(got, mem) {
			t.Fatalf("round trip: got %x want %x", got, mem)
		}
	})
}
