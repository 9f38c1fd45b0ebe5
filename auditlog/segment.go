package auditlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caxton-go/caxton"
)

const (
	lockFile   = "LOCK"
	segmentExt = ".jsonl"
	maxLine    = 1 << 20 // a record is far smaller; a longer line is damage
)

// segment is one file of the trail, as far as retention needs to know it.
type segment struct {
	path   string
	first  caxton.AuditRecord // its first record (the zero record while empty)
	lastAt time.Time          // its newest record's time
	count  int
	bytes  int64
}

// segmentName is the file name of a segment beginning at seq.
func segmentName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, segmentExt) }

// listSegments returns dir's segment files in trail order.
func listSegments(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if stem, ok := strings.CutSuffix(n, segmentExt); ok && !e.IsDir() {
			if _, err := strconv.ParseUint(stem, 10, 64); err == nil {
				names = append(names, filepath.Join(dir, n))
			}
		}
	}
	slices.Sort(names) // zero-padded: lexical order is numeric order
	return names, nil
}

// readSegment calls fn with each record of the file at path. A line cut
// short at the end of the file (no newline) is reported as torn, with
// the offset where it begins, rather than as damage: only the newest
// segment may end so, after a crash. Any other line that does not decode
// is a *CorruptError.
//
// limit, when not negative, reads only the file's first limit bytes (the
// records written when a reader began).
func readSegment(path string, limit int64, fn func(r *caxton.AuditRecord) error) (torn bool, tornAt int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, 0, err
	}
	defer f.Close()
	var src io.Reader = f
	if limit >= 0 {
		src = io.LimitReader(f, limit)
	}
	rd := bufio.NewReaderSize(src, 64<<10)
	var off int64
	for line := 1; ; line++ {
		b, err := rd.ReadSlice('\n')
		for err == bufio.ErrBufferFull { // a long line: gather it
			more := append([]byte(nil), b...)
			for err == bufio.ErrBufferFull && len(more) <= maxLine {
				b, err = rd.ReadSlice('\n')
				more = append(more, b...)
			}
			b = more
			if len(b) > maxLine {
				return false, 0, &CorruptError{File: filepath.Base(path), Line: line, Reason: "line longer than any record"}
			}
		}
		switch {
		case err == io.EOF && len(b) == 0:
			return false, 0, nil
		case err == io.EOF:
			return true, off, nil
		case err != nil:
			return false, 0, err
		}
		var r caxton.AuditRecord
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return false, 0, &CorruptError{File: filepath.Base(path), Line: line, Reason: "not an audit record: " + err.Error()}
		}
		if err := fn(&r); err != nil {
			return false, 0, err
		}
		off += int64(len(b))
	}
}
