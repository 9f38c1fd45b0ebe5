package auditlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/caxton-go/caxton"
)

var _ caxton.AuditRetainer = (*Log)(nil)

// Log is a runtime's audit trail in a directory: a caxton.AuditSink (and
// caxton.AuditRetainer) for caxton.WithAuditSink. It is safe for
// concurrent use.
type Log struct {
	dir  string
	cfg  config
	lock *os.File

	mu      sync.Mutex
	segs    []segment // oldest first; the last is the one appended to
	f       *os.File  // the newest segment, open for appending (nil before the first record)
	last    caxton.AuditRecord
	hasLast bool
	dirty   bool  // written since the last fsync
	failed  error // a write that failed part-way: nothing more is appended
	closed  bool

	// rmu keeps Remove from deleting a segment a reader (All) is reading;
	// appends do not wait for readers.
	rmu sync.RWMutex

	stop chan struct{} // ends the background syncer
	done chan struct{} // closed when it has ended
}

// Open opens (or creates) the trail in dir, reading every stored record
// once: its newest is Last, and a damaged line fails Open with a
// *CorruptError (see the package doc).
func Open(dir string, opts ...Option) (*Log, error) {
	cfg := config{segmentBytes: 4 << 20, syncEvery: time.Second}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if dir == "" {
		return nil, errors.New("auditlog: Open: empty directory name")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("auditlog: Open: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, cfg: cfg, lock: lock}
	if err := l.load(); err != nil {
		unlockDir(lock)
		return nil, err
	}
	if cfg.syncEvery > 0 {
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.syncer()
	}
	return l, nil
}

// load reads the segments, drops a record torn at the end of the newest
// one, and opens that one for appending.
func (l *Log) load() error {
	names, err := listSegments(l.dir)
	if err != nil {
		return fmt.Errorf("auditlog: Open: %w", err)
	}
	for i, p := range names {
		seg := segment{path: p}
		torn, at, err := readSegment(p, -1, func(r *caxton.AuditRecord) error {
			if seg.count == 0 {
				seg.first = *r
			}
			seg.lastAt, seg.count = r.At, seg.count+1
			l.last, l.hasLast = *r, true
			return nil
		})
		if err != nil {
			return fmt.Errorf("auditlog: Open: %w", err)
		}
		if torn {
			if i != len(names)-1 {
				return &CorruptError{File: filepath.Base(p), Line: seg.count + 1, Reason: "the record is cut short, in a segment that is not the newest"}
			}
			if err := os.Truncate(p, at); err != nil {
				return fmt.Errorf("auditlog: Open: dropping the record cut short at the end of %s: %w", filepath.Base(p), err)
			}
		}
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("auditlog: Open: %w", err)
		}
		seg.bytes = st.Size()
		l.segs = append(l.segs, seg)
	}
	if n := len(l.segs); n > 0 {
		l.f, err = os.OpenFile(l.segs[n-1].path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("auditlog: Open: %w", err)
		}
	}
	return nil
}

// Last returns the newest stored record; ok is false while the trail is
// empty.
func (l *Log) Last() (caxton.AuditRecord, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last, l.hasLast, nil
}

// Append writes r after the stored trail's last record (an *OrderError if
// it does not follow it), beginning a new segment when the current one is
// full. It returns once the record is with the operating system; see
// WithSyncInterval for the disk.
func (l *Log) Append(r caxton.AuditRecord) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("auditlog: encoding record %d: %w", r.Seq, err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case l.failed != nil:
		return fmt.Errorf("auditlog: an earlier write failed, so nothing more is appended: %w", l.failed)
	case l.hasLast && r.Seq != l.last.Seq+1:
		return &OrderError{Seq: r.Seq, After: l.last.Seq}
	}
	if l.f == nil || l.cur().count > 0 && l.cur().bytes+int64(len(line)) > l.cfg.segmentBytes {
		if err := l.rotate(r.Seq); err != nil {
			return err
		}
	}
	if _, err := l.f.Write(line); err != nil {
		l.failed = err
		return fmt.Errorf("auditlog: writing record %d: %w", r.Seq, err)
	}
	seg := l.cur()
	if seg.count == 0 {
		seg.first = r
	}
	seg.count++
	seg.bytes += int64(len(line))
	seg.lastAt = r.At
	l.last, l.hasLast = r, true
	if l.cfg.syncEvery == 0 {
		if err := l.f.Sync(); err != nil {
			l.failed = err
			return fmt.Errorf("auditlog: syncing record %d: %w", r.Seq, err)
		}
		return nil
	}
	l.dirty = true
	return nil
}

func (l *Log) cur() *segment { return &l.segs[len(l.segs)-1] }

// rotate syncs and closes the current segment and begins one at seq.
func (l *Log) rotate(seq uint64) error {
	if l.f != nil {
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("auditlog: syncing %s: %w", filepath.Base(l.f.Name()), err)
		}
		if err := l.f.Close(); err != nil {
			return fmt.Errorf("auditlog: closing %s: %w", filepath.Base(l.f.Name()), err)
		}
		l.f, l.dirty = nil, false
	}
	p := filepath.Join(l.dir, segmentName(seq))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("auditlog: beginning a segment: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		f.Close()
		return err
	}
	l.f = f
	l.segs = append(l.segs, segment{path: p})
	return nil
}

// Expired reports the oldest record that stays if retention runs now:
// segments, oldest first and never the newest, go while all their records
// are older than MaxAge or the records after them number at least
// MaxRecords.
func (l *Log) Expired(now time.Time) (caxton.AuditRecord, bool, error) {
	r := l.cfg.retention
	if r.MaxAge == 0 && r.MaxRecords == 0 {
		return caxton.AuditRecord{}, false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	total := 0
	for _, s := range l.segs {
		total += s.count
	}
	drop := 0
	for ; drop < len(l.segs)-1; drop++ {
		s := &l.segs[drop]
		byAge := r.MaxAge > 0 && now.Sub(s.lastAt) > r.MaxAge
		byCount := r.MaxRecords > 0 && total-s.count >= r.MaxRecords
		if !byAge && !byCount {
			break
		}
		total -= s.count
	}
	if drop == 0 || l.segs[drop].count == 0 {
		return caxton.AuditRecord{}, false, nil
	}
	return l.segs[drop].first, true, nil
}

// Remove deletes the segments that hold only records numbered below seq.
func (l *Log) Remove(seq uint64) error {
	l.rmu.Lock() // no reader is in the files
	defer l.rmu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for n < len(l.segs)-1 && l.segs[n+1].count > 0 && l.segs[n+1].first.Seq <= seq {
		if err := os.Remove(l.segs[n].path); err != nil && !os.IsNotExist(err) {
			l.segs = l.segs[n:]
			return fmt.Errorf("auditlog: removing %s: %w", filepath.Base(l.segs[0].path), err)
		}
		n++
	}
	l.segs = l.segs[n:]
	if n == 0 {
		return nil
	}
	return syncDir(l.dir)
}

// All reads the stored trail from disk, oldest first, as it is when All
// begins. Appends go on meanwhile; retention waits for the reading to end,
// so do not wait for the runtime's audited events inside the loop.
func (l *Log) All() iter.Seq2[caxton.AuditRecord, error] {
	return func(yield func(caxton.AuditRecord, error) bool) {
		l.rmu.RLock()
		defer l.rmu.RUnlock()
		l.mu.Lock()
		segs := append([]segment(nil), l.segs...)
		l.mu.Unlock()
		stop := errors.New("stop")
		for _, s := range segs {
			_, _, err := readSegment(s.path, s.bytes, func(r *caxton.AuditRecord) error {
				if !yield(*r, nil) {
					return stop
				}
				return nil
			})
			if err == stop {
				return
			}
			if err != nil {
				yield(caxton.AuditRecord{}, fmt.Errorf("auditlog: reading %s: %w", filepath.Base(s.path), err))
				return
			}
		}
	}
}

// Verify reads the whole stored trail and checks it with
// caxton.AuditTrailVerifier: every record chained to the one before, and
// nothing missing at the start that no retention checkpoint accounts for.
// Tampering is an error wrapping caxton.ErrAuditTampered.
func (l *Log) Verify() error {
	var v caxton.AuditTrailVerifier
	for r, err := range l.All() {
		if err != nil {
			return err
		}
		if err := v.Add(&r); err != nil {
			return err
		}
	}
	return v.Done()
}

// Sync writes what was appended through to the disk now.
func (l *Log) Sync() error {
	l.mu.Lock()
	f, dirty := l.f, l.dirty
	l.dirty = false
	l.mu.Unlock()
	if !dirty || f == nil {
		return nil
	}
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) { // closed: rotation synced it
		return fmt.Errorf("auditlog: sync: %w", err)
	}
	return nil
}

// syncer fsyncs written records every WithSyncInterval.
func (l *Log) syncer() {
	defer close(l.done)
	t := time.NewTicker(l.cfg.syncEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			_ = l.Sync() // a failure shows at the next Sync or Close
		}
	}
}

// Close syncs and closes the trail and releases the directory. Appends
// after it fail with ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	if l.stop != nil {
		close(l.stop)
		<-l.done
	}
	var err error
	if l.f != nil {
		err = errors.Join(l.f.Sync(), l.f.Close())
	}
	return errors.Join(err, unlockDir(l.lock))
}

// syncDir makes a directory's entries (created or removed files) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("auditlog: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("auditlog: syncing directory %s: %w", dir, err)
	}
	return nil
}
