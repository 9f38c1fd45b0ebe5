package durable

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/caxton-go/caxton/store"
)

var _ store.Store = (*Store)(nil)

// Store is a durable store.Store over a Pebble database in one directory.
// It is safe for concurrent use; each of its queues follows the store
// contract (the runtime serialises calls on one queue).
type Store struct {
	dir  string
	cfg  config
	db   *pebble.DB
	c    *committer
	log  *slog.Logger
	dead deadLetters
	hist *history // nil unless WithHistory
	lock *os.File // the directory's lock, released by Close

	// mu guards closed and makes Close wait for submissions in progress:
	// submitters hold it shared while handing a request to the committer.
	mu     sync.RWMutex
	closed bool

	qmu     sync.Mutex
	names   map[string]uint32 // every queue on disk
	open    map[string]*Queue // queues open now
	nextQID uint32

	corruptFile atomic.Pointer[string] // the last file the engine reported damaged
	seq         atomic.Uint64          // last envelope sequence number handed out
	openSeq     uint64                 // seq at Open: envelopes above it were pushed by this process
	quarantined int
}

// Open opens (or creates) the store in dir. It reads every record once to
// check it, so damage is found now rather than when a message is due; a
// damaged store yields a *CorruptError naming the file (see WithRepair).
// Only one Store may have dir open at a time; a second Open fails.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg := config{logger: slog.New(slog.DiscardHandler), now: time.Now, memTable: 32 << 20}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.history != nil {
		if err := cfg.history.validate(); err != nil {
			return nil, err
		}
	}
	if dir == "" {
		return nil, errors.New("durable: Open: empty directory name")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("durable: Open: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s, err := open(dir, cfg)
	if err != nil {
		lock.Close()
		if strings.Contains(err.Error(), "lock held") { // the engine's lock, where lockDir cannot lock
			return nil, &LockedError{Dir: dir}
		}
		return nil, err
	}
	s.lock = lock
	return s, nil
}

// open opens the engine and loads the store; Open holds the directory's
// lock.
func open(dir string, cfg config) (*Store, error) {
	s := &Store{dir: dir, cfg: cfg, log: cfg.logger, names: map[string]uint32{}, open: map[string]*Queue{}, nextQID: 1}
	db, err := pebble.Open(dir, &pebble.Options{
		Logger:       pebbleLogger{cfg.logger},
		MemTableSize: cfg.memTable,
		// The newest format writes WAL chunks that record how far the log
		// was synced, so on replay garbage in the middle of the WAL is told
		// from a torn tail: the first is reported as corruption rather than
		// silently cutting off everything after it.
		FormatMajorVersion: pebble.FormatNewest,
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) {
				cfg.logger.Error("durable: storage engine background error", "dir", dir, "error", err)
			},
			// Pebble's default here is Fatalf; we report damage as an error
			// instead (naming the file), so a damaged store never panics.
			DataCorruption: func(info pebble.DataCorruptionInfo) {
				s.corruptFile.Store(&info.Path)
				cfg.logger.Error("durable: storage engine found damage", "file", info.Path, "error", info.Details)
			},
		},
	})
	if err != nil {
		return nil, s.engineError("opening the storage engine", err)
	}
	s.db = db
	s.dead.s = s
	if cfg.history != nil {
		s.hist = &history{s: s, ret: *cfg.history}
	}
	if err := s.load(); err != nil {
		_ = db.Close()
		return nil, err
	}
	s.openSeq = s.seq.Load()
	s.c = newCommitter(db, &s.seq, func(err error) {
		s.log.Error("durable: store failed; refusing further writes", "dir", dir, "error", err)
	})
	if s.hist != nil {
		s.hist.start()
	}
	return s, nil
}

// engineError classifies an error from the storage engine: corruption
// becomes a *CorruptError naming the damaged file.
func (s *Store) engineError(doing string, err error) error {
	if !pebble.IsCorruptionError(err) && !errors.Is(err, pebble.ErrCorruption) {
		return fmt.Errorf("durable: %s in %s: %w", doing, s.dir, err)
	}
	file := s.dir
	if p := s.corruptFile.Load(); p != nil {
		file = *p
	} else if m := engineFile.FindString(err.Error()); m != "" {
		file = filepath.Join(s.dir, m)
	} else if strings.Contains(err.Error(), "WAL") {
		// Replay errors do not always name the log: name the WAL files
		// there are (usually one; the damaged one is the oldest replayed).
		all, _ := filepath.Glob(filepath.Join(s.dir, "*.log"))
		var logs []string
		for _, l := range all {
			if fi, err := os.Stat(l); err == nil && fi.Size() > 0 {
				logs = append(logs, l)
			}
		}
		slices.Sort(logs)
		switch len(logs) {
		case 0:
		case 1:
			file = logs[0]
		default:
			doing += " (write-ahead logs " + strings.Join(logs, ", ") + ")"
		}
	}
	return &CorruptError{File: file, Detail: doing, Err: err}
}

// submit hands r to the committer and, unless r is fire-and-forget, waits
// for it to be on disk.
func (s *Store) submit(r *request) error {
	if err := s.enqueue(r); err != nil || r.done == nil {
		return err
	}
	return <-r.done
}

// enqueue hands r to the committer without waiting for it.
func (s *Store) enqueue(r *request) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	if err := s.c.failure(); err != nil {
		s.mu.RUnlock()
		return err
	}
	s.c.reqs <- r
	s.mu.RUnlock()
	return nil
}

// write commits ops atomically and waits for the fsync.
func (s *Store) write(ops ...op) error {
	return s.submit(&request{ops: ops, sync: true, done: make(chan error, 1)})
}

// Sync waits until everything submitted before it, acks included, is on
// disk. Acks are not fsync'd one by one (an ack lost in a crash only means
// a redelivery); Sync is for a caller that wants them settled now.
func (s *Store) Sync() error { return s.write() }

// flush waits until everything submitted before it is applied (readable),
// without forcing an fsync.
func (s *Store) flush() error {
	return s.submit(&request{done: make(chan error, 1)})
}

// OpenQueue opens the queue named name, creating it on first use. An
// existing queue comes back with every envelope pushed to it and never
// acknowledged — in flight at a crash or not — ahead of anything new, in
// priority and arrival order, with attempt counts restored. A queue may be
// open once at a time (ErrQueueOpen); Close it to open it again.
func (s *Store) OpenQueue(name string) (store.Queue, error) {
	q, err := s.Queue(name)
	if err != nil {
		return nil, err // an untyped nil: a nil *Queue in the interface would not compare equal to nil
	}
	return q, nil
}

// Queue is OpenQueue returning the concrete type, for its extra methods.
func (s *Store) Queue(name string) (*Queue, error) {
	if name == "" {
		return nil, errors.New("durable: OpenQueue: empty queue name")
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.isClosed() {
		return nil, ErrClosed
	}
	if _, ok := s.open[name]; ok {
		return nil, fmt.Errorf("%w: %q", ErrQueueOpen, name)
	}
	qid, known := s.names[name]
	if !known {
		qid = s.nextQID
		if err := s.write(op{kind: opSet, key: nameKey(name), val: encodeName(nil, qid)}); err != nil {
			return nil, err
		}
		s.names[name] = qid
		s.nextQID++
	}
	q := newQueue(s, name, qid)
	if known {
		if err := s.flush(); err != nil { // acks of an earlier handle are applied
			return nil, err
		}
		if err := s.reading(q.recover); err != nil {
			return nil, err
		}
	}
	s.open[name] = q
	return q, nil
}

// Queues returns the names of every queue on disk, open or not, sorted.
// After a restart it tells the runtime which agents have messages waiting
// (or had a queue) before they are spawned again.
func (s *Store) Queues() []string {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	out := make([]string, 0, len(s.names))
	for n := range s.names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// DeleteQueue removes a closed queue and every envelope in it, for an agent
// removed for good (dead-letter what must not be lost first). Deleting a
// queue that does not exist is not an error.
func (s *Store) DeleteQueue(name string) error {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if _, ok := s.open[name]; ok {
		return fmt.Errorf("%w: %q", ErrQueueOpen, name)
	}
	qid, ok := s.names[name]
	if !ok {
		return nil
	}
	if err := s.write(op{kind: opDeleteRange, key: queuePrefix(qid), val: queuePrefix(qid + 1)},
		op{kind: opDelete, key: nameKey(name)}); err != nil {
		return err
	}
	delete(s.names, name)
	return nil
}

// DeadLetters returns the store's durable dead-letter queue.
func (s *Store) DeadLetters() store.DeadLetterQueue { return &s.dead }

// Quarantined returns how many damaged records Open moved aside under
// WithRepair. They stay in the store's directory, byte for byte, for
// forensics; nothing reads them back.
func (s *Store) Quarantined() int { return s.quarantined }

// Stats describes how the store's writes grouped since Open.
type Stats struct {
	Commits uint64 // batches written
	Fsyncs  uint64 // of which were fsync'd (those carrying a push, retry or other waited-for write)
	Writes  uint64 // records set or deleted, over all batches
}

// Stats returns write counters, to see group commit at work: Writes per
// Fsync is how many records one fsync carried.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.c.stats.batches.Load(), Fsyncs: s.c.stats.syncs.Load(), Writes: s.c.stats.ops.Load()}
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Close writes out everything pending (acks included), fsyncs, and closes
// the database. Queues must not be used afterwards; dead letters stay
// readable (List, Len) from memory, as with store.Memory.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.hist != nil {
		s.hist.stop()
	}
	// No submitter holds mu now and none can start: drain and stop.
	s.c.reqs <- &request{sync: true}
	close(s.c.reqs)
	<-s.c.exit
	err := s.c.failure()
	if cerr := s.db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("durable: closing %s: %w", s.dir, cerr)
	}
	if s.lock != nil {
		_ = s.lock.Close() // after the engine: the directory is free once unlocked
	}
	return err
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// Key layout. Every key starts with a one-byte tag; numbers are big-endian
// so keys sort in numeric order.
//
//	'n' name                        queue name → queue id
//	'q' qid(4) seq(8)               a queued or in-flight envelope
//	'd' seq(8)                      a dead letter
//	'h' seq(8)                      a history entry
//	'c' len(uvarint) conv seq(8)    history index by conversation
//	'a' len(uvarint) agent seq(8)   history index by agent (sender and receiver)
//	'x' original key                a quarantined (damaged) record
//	'm' "seq" / "hseq"              the highest envelope / history sequence number used
const (
	tagName       = 'n'
	tagQueue      = 'q'
	tagDead       = 'd'
	tagHistory    = 'h'
	tagConv       = 'c'
	tagAgent      = 'a'
	tagQuarantine = 'x'
	tagMeta       = 'm'
)

var (
	metaSeqKey     = []byte("mseq")  // the highest envelope sequence number used
	metaHistSeqKey = []byte("mhseq") // the highest history sequence number used
)

func nameKey(name string) []byte { return append([]byte{tagName}, name...) }

func queuePrefix(qid uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{tagQueue}, qid)
}

func queueKey(qid uint32, seq uint64) []byte {
	k := make([]byte, 13)
	k[0] = tagQueue
	binary.BigEndian.PutUint32(k[1:], qid)
	binary.BigEndian.PutUint64(k[5:], seq)
	return k
}

func seqKey(tag byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tag}, seq)
}

// indexPrefix is tag, the length of s, then s: no value of s is a prefix
// of another's key range.
func indexPrefix(tag byte, s string) []byte {
	k := binary.AppendUvarint([]byte{tag}, uint64(len(s)))
	return append(k, s...)
}

// prefixEnd returns the first key after every key starting with p.
func prefixEnd(p []byte) []byte {
	end := slices.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

// pebbleLogger routes the engine's log lines to slog. Pebble calls Fatalf
// only for broken invariants and requires that it not return, so it logs
// and panics: carrying on would risk acknowledging writes that are lost.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic("durable: storage engine invariant violated: " + msg)
}

// Durable reports that queues outlive the process (store.Durable).
func (s *Store) Durable() bool { return true }

var _ store.Durable = (*Store)(nil)
