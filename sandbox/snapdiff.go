package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// A snapshot keeps memory as the bytes that differ from the module's
// image, encoded as runs: for each, the distance from the end of the
// previous run (uvarint), its length (uvarint) and its bytes. Byte runs
// rather than fixed blocks because a sleeping agent differs from the
// image in a few hundred scattered bytes (a C counter after three
// messages: 309 bytes in 38 places) that fixed 64-byte blocks turned into
// 1,280, and a million sleeping agents hold their snapshots all the time.

// diffScanBlock is how much memory the scan compares at once before it
// looks for the differing bytes: most of memory equals the image, and
// bytes.Equal passes over it at memory speed.
const diffScanBlock = 64

// runMergeGap is the longest stretch of equal bytes kept inside a run:
// starting a new run costs at least two bytes of header, so a shorter gap
// is cheaper to copy.
const runMergeGap = 3

// span is a stretch of memory [off, end) that differs from the image.
type span struct{ off, end int }

// diffRuns returns the runs that turn base (read as zeros past its end)
// into mem, or nil when they are equal.
func diffRuns(mem, base []byte) []byte {
	var local [32]span
	spans := local[:0]
	add := func(i int) {
		if n := len(spans); n > 0 && i <= spans[n-1].end+runMergeGap {
			spans[n-1].end = i + 1
			return
		}
		spans = append(spans, span{i, i + 1})
	}
	var zero [diffScanBlock]byte
	for off := 0; off < len(mem); off += diffScanBlock {
		end := min(off+diffScanBlock, len(mem))
		cur := mem[off:end]
		switch {
		case end <= len(base):
			if was := base[off:end]; !bytes.Equal(cur, was) {
				for i := range cur {
					if cur[i] != was[i] {
						add(off + i)
					}
				}
			}
		case off >= len(base):
			if !bytes.Equal(cur, zero[:len(cur)]) {
				for i, b := range cur {
					if b != 0 {
						add(off + i)
					}
				}
			}
		default: // the block where base ends
			for i, b := range cur {
				if b != imageByte(base, off+i) {
					add(off + i)
				}
			}
		}
	}
	if len(spans) == 0 {
		return nil
	}
	size, prev := 0, 0
	for _, s := range spans {
		size += uvarintLen(uint64(s.off-prev)) + uvarintLen(uint64(s.end-s.off)) + s.end - s.off
		prev = s.end
	}
	out := make([]byte, 0, size)
	prev = 0
	for _, s := range spans {
		out = binary.AppendUvarint(out, uint64(s.off-prev))
		out = binary.AppendUvarint(out, uint64(s.end-s.off))
		out = append(out, mem[s.off:s.end]...)
		prev = s.end
	}
	return out
}

// imageByte is base[i], or zero past its end.
func imageByte(base []byte, i int) byte {
	if i < len(base) {
		return base[i]
	}
	return 0
}

// errBadRuns reports runs that do not fit the memory they are applied to.
var errBadRuns = errors.New("snapshot runs do not fit the memory")

// applyRuns writes runs (from diffRuns) into mem. It checks every run
// against mem's bounds and fails, writing nothing more, on one that does
// not fit.
func applyRuns(mem, runs []byte) error {
	pos := 0
	for len(runs) > 0 {
		skip, k := binary.Uvarint(runs)
		if k <= 0 {
			return errBadRuns
		}
		runs = runs[k:]
		n, k := binary.Uvarint(runs)
		if k <= 0 || n > uint64(len(runs)-k) {
			return errBadRuns
		}
		runs = runs[k:]
		if skip > uint64(len(mem)-pos) || n > uint64(len(mem)-pos)-skip {
			return errBadRuns
		}
		pos += int(skip)
		pos += copy(mem[pos:], runs[:n])
		runs = runs[n:]
	}
	return nil
}

// uvarintLen is the length of x's uvarint encoding.
func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
