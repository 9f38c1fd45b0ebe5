package durable

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/caxton-go/caxton/acl"
)

// History: a copy of every pushed envelope, written in the same atomic
// batch as the push, indexed by conversation and by agent (receiver and
// sender), and pruned oldest first to stay within a Retention. It is what
// "replay a conversation's or an agent's message history" reads; queues
// cannot serve it, because an acknowledged envelope is gone from its queue.

// Bounds on one History call, so a read cannot pull a whole history into
// memory by accident; page with HistoryQuery.After.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 10000
)

// HistoryEntry is one delivery: a message pushed to one receiver's queue. A
// message sent to three agents has three entries, one per receiver.
type HistoryEntry struct {
	Seq      uint64       // position in the history: increasing, a paging cursor
	Receiver acl.AgentID  // the agent the envelope was queued for
	At       time.Time    // when the store accepted it (its clock)
	Msg      *acl.Message // the message
}

// HistoryQuery selects history entries, oldest first. With Conversation
// set it reads that conversation (and, if Agent is set too, only the
// entries sent to or by Agent); with only Agent set, everything sent to or
// by that agent; with neither, everything.
type HistoryQuery struct {
	Conversation string
	Agent        acl.AgentID
	Since        time.Time // skip entries accepted before this
	After        uint64    // skip entries with Seq <= After (paging cursor)
	Limit        int       // at most this many (DefaultHistoryLimit if <= 0, capped at MaxHistoryLimit)
}

type history struct {
	s   *Store
	ret Retention
	seq atomic.Uint64

	mu     sync.Mutex
	count  int
	bytes  int64
	oldest time.Time // At of the oldest entry, zero when empty
	first  uint64    // no entry has a lower seq: pruning starts here

	in     chan histItem   // entries to write, and barriers
	prunes chan chan error // PruneHistory's requests
	done   chan struct{}   // closed when the writer exits
}

// load accounts for one entry during Open.
func (h *history) load(key, val []byte) error {
	e, err := decodeHistory(val)
	if err != nil {
		return err
	}
	seq := binary.BigEndian.Uint64(key[1:])
	h.seq.Store(max(h.seq.Load(), seq))
	if h.count == 0 {
		h.oldest, h.first = e.At, seq
	}
	h.count++
	h.bytes += int64(len(val))
	return nil
}

// History reads delivered messages back, oldest first, for replay or
// inspection. See HistoryQuery for the selection and its bounds. ctx is
// checked while History waits for entries still being written and every
// few hundred entries read; when it ends History returns its error.
func (s *Store) History(ctx context.Context, q HistoryQuery) ([]HistoryEntry, error) {
	if s.hist == nil {
		return nil, ErrNoHistory
	}
	if ctx == nil {
		return nil, errNilContext
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	limit = min(limit, MaxHistoryLimit)
	var prefix []byte
	switch {
	case q.Conversation != "":
		prefix = indexPrefix(tagConv, q.Conversation)
	case q.Agent != "":
		prefix = indexPrefix(tagAgent, string(q.Agent))
	default:
		prefix = []byte{tagHistory}
	}
	if err := s.hist.flush(ctx); err != nil {
		return nil, err
	}
	var out []HistoryEntry
	err := s.reading(func() error {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
		if err != nil {
			return err
		}
		defer it.Close()
		read := 0
		for it.SeekGE(binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), q.After+1)); it.Valid() && len(out) < limit; it.Next() {
			if read++; read%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			k := it.Key()
			seq := binary.BigEndian.Uint64(k[len(k)-8:])
			val, err := it.ValueAndErr()
			if err != nil {
				return err
			}
			if prefix[0] != tagHistory { // an index key: the entry is elsewhere
				v, closer, gerr := s.db.Get(seqKey(tagHistory, seq))
				if errors.Is(gerr, pebble.ErrNotFound) {
					continue // pruned between the index read and this one
				}
				if gerr != nil {
					return gerr
				}
				val = slices.Clone(v)
				_ = closer.Close()
			}
			e, err := decodeHistory(val)
			if err != nil {
				return &CorruptError{File: s.dir, Key: readableKey(seqKey(tagHistory, seq)), Detail: "a history entry cannot be read", Err: err}
			}
			e.Seq = seq
			if e.At.Before(q.Since) || q.Conversation != "" && q.Agent != "" && e.Receiver != q.Agent && e.Msg.Sender != q.Agent {
				continue
			}
			out = append(out, e)
		}
		return it.Error()
	})
	if err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) || errors.Is(err, ErrClosed) || ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return nil, s.engineError("reading history", err)
	}
	return out, nil
}

// reading runs fn with the database open: Close waits for it to finish.
func (s *Store) reading(fn func() error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return fn()
}
