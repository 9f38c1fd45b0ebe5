package durable

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/caxton-go/caxton/acl"
)

// The history writer. History entries are written by their own goroutine,
// in their own batches, off the push path: a push waits only for its own
// envelope, and the history's memtable inserts and index keys run on the
// other core. The price is a window: an entry is written shortly after
// its push returned and is fsync'd by the next group commit, so a crash can
// lose the last few milliseconds of history (never of queued messages).
// The same goroutine prunes, so writes and retention never race.

// histItem is one entry to write, or (done set) a barrier.
type histItem struct {
	receiver acl.AgentID
	msg      *acl.Message
	at       time.Time
	done     chan struct{}
}

// record queues a pushed envelope's history entry.
func (h *history) record(receiver acl.AgentID, m *acl.Message) {
	h.s.mu.RLock()
	defer h.s.mu.RUnlock()
	if !h.s.closed {
		h.in <- histItem{receiver: receiver, msg: m, at: h.s.cfg.now()}
	}
}

// flush waits until every entry recorded before it is written, or until
// ctx ends (the entries are written all the same).
func (h *history) flush(ctx context.Context) error {
	done := make(chan struct{})
	h.s.mu.RLock()
	if h.s.closed {
		h.s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case h.in <- histItem{done: done}:
	case <-ctx.Done():
		h.s.mu.RUnlock()
		return ctx.Err()
	}
	h.s.mu.RUnlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *history) start() {
	h.in, h.prunes, h.done = make(chan histItem, 8192), make(chan chan error), make(chan struct{})
	var tick <-chan time.Time
	var t *time.Ticker
	if h.ret.MaxAge > 0 { // entries age out even when nothing is pushed
		t = time.NewTicker(min(max(h.ret.MaxAge/10, time.Second), time.Minute))
		tick = t.C
	}
	go func() {
		defer close(h.done)
		if t != nil {
			defer t.Stop()
		}
		var items []histItem
		for {
			select {
			case it, ok := <-h.in:
				if !ok {
					return
				}
				items = append(items[:0], it)
			more:
				for len(items) < 1024 {
					select {
					case it, ok := <-h.in:
						if !ok {
							break more
						}
						items = append(items, it)
					default:
						break more
					}
				}
				h.write(items)
				clear(items)
			case reply := <-h.prunes:
				reply <- h.prune()
				continue
			case <-tick:
			}
			h.mu.Lock()
			over := h.overLocked(h.s.cfg.now())
			h.mu.Unlock()
			if over {
				h.logPrune(h.prune())
			}
		}
	}()
}

// stop ends the writer after it wrote everything recorded. The store is
// marked closed already, so nothing is recorded any more.
func (h *history) stop() {
	close(h.in)
	<-h.done
}

func (h *history) logPrune(err error) {
	if err != nil {
		h.s.log.Error("durable: pruning history", "dir", h.s.dir, "error", err)
	}
}

// write commits items' entries as one batch, without waiting for an fsync.
func (h *history) write(items []histItem) {
	b := h.s.db.NewBatch()
	defer b.Close()
	var n, size int
	var first uint64
	var oldest time.Time
	for _, it := range items {
		if it.msg == nil {
			continue
		}
		seq := h.seq.Add(1)
		if n == 0 {
			first, oldest = seq, it.at
		}
		val := encodeHistory(nil, it.receiver, it.at, it.msg)
		_ = b.Set(seqKey(tagHistory, seq), val, nil)
		if c := it.msg.ConversationID; c != "" {
			_ = b.Set(binary.BigEndian.AppendUint64(indexPrefix(tagConv, c), seq), nil, nil)
		}
		for _, a := range agentsOf(it.receiver, it.msg) {
			_ = b.Set(binary.BigEndian.AppendUint64(indexPrefix(tagAgent, string(a)), seq), nil, nil)
		}
		n++
		size += len(val)
	}
	if n > 0 {
		// Like envelopes', history sequence numbers are never reused, even
		// after pruning removed every entry that had them: they are paging
		// cursors (HistoryQuery.After) that may outlive a restart.
		_ = b.Set(metaHistSeqKey, binary.BigEndian.AppendUint64(nil, h.seq.Load()), nil)
		if err := b.Commit(pebble.NoSync); err != nil {
			h.s.log.Error("durable: writing history; entries lost", "dir", h.s.dir, "entries", n, "error", err)
		} else {
			h.mu.Lock()
			if h.count == 0 {
				h.oldest, h.first = oldest, first
			}
			h.count += n
			h.bytes += int64(size)
			h.mu.Unlock()
		}
	}
	for _, it := range items {
		if it.done != nil {
			close(it.done)
		}
	}
}

func agentsOf(receiver acl.AgentID, m *acl.Message) []acl.AgentID {
	if m.Sender == "" || m.Sender == receiver {
		return []acl.AgentID{receiver}
	}
	return []acl.AgentID{receiver, m.Sender}
}

// overLocked reports whether a bound is passed by enough to prune: by a
// tenth of it, so pruning runs now and then, in chunks, not after every
// push.
func (h *history) overLocked(now time.Time) bool {
	r := h.ret
	return h.count > 0 && (r.MaxEntries > 0 && h.count > r.MaxEntries+r.MaxEntries/10 ||
		r.MaxBytes > 0 && h.bytes > r.MaxBytes+r.MaxBytes/10 ||
		r.MaxAge > 0 && h.oldest.Before(now.Add(-r.MaxAge-r.MaxAge/10)))
}

// PruneHistory applies the retention bounds now, exactly, rather than when
// the writer next finds a bound passed by a tenth (or, with MaxAge, on its
// periodic check). It returns ctx's error if ctx ends first; a pruning
// already under way then finishes in the background (it is one writer's
// job, in chunks, and leaves the history consistent either way).
func (s *Store) PruneHistory(ctx context.Context) error {
	if s.hist == nil {
		return ErrNoHistory
	}
	if ctx == nil {
		return errNilContext
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.hist.flush(ctx); err != nil {
		return err
	}
	reply := make(chan error, 1)
	select {
	case s.hist.prunes <- reply:
	case <-s.hist.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// prune deletes the oldest entries, with their index keys, until every
// bound holds; in chunks. The entries go with one range deletion, which
// later reads skip cheaply. It runs on the writer goroutine only.
func (h *history) prune() error {
	const chunk = 4096
	for {
		now := h.s.cfg.now()
		h.mu.Lock()
		count, bytes, first, ret := h.count, h.bytes, h.first, h.ret
		h.mu.Unlock()
		it, err := h.s.db.NewIter(&pebble.IterOptions{LowerBound: seqKey(tagHistory, first), UpperBound: []byte{tagHistory + 1}})
		if err != nil {
			return h.s.engineError("pruning history", err)
		}
		b := h.s.db.NewBatch()
		var n int
		var size int64
		var next time.Time
		last := first
		for it.First(); it.Valid() && n < chunk; it.Next() {
			val, err := it.ValueAndErr()
			if err != nil {
				break // it.Error reports it
			}
			e, derr := decodeHistory(val) // a damaged entry is pruned without its index keys
			if derr == nil && !(ret.MaxEntries > 0 && count-n > ret.MaxEntries || ret.MaxBytes > 0 && bytes-size > ret.MaxBytes ||
				ret.MaxAge > 0 && e.At.Before(now.Add(-ret.MaxAge))) {
				next = e.At
				break
			}
			seq := binary.BigEndian.Uint64(it.Key()[1:])
			if derr == nil {
				if c := e.Msg.ConversationID; c != "" {
					_ = b.Delete(binary.BigEndian.AppendUint64(indexPrefix(tagConv, c), seq), nil)
				}
				for _, a := range agentsOf(e.Receiver, e.Msg) {
					_ = b.Delete(binary.BigEndian.AppendUint64(indexPrefix(tagAgent, string(a)), seq), nil)
				}
			}
			last = seq + 1
			n++
			size += int64(len(val))
		}
		err = it.Error()
		_ = it.Close()
		if err == nil && n > 0 {
			_ = b.DeleteRange(seqKey(tagHistory, first), seqKey(tagHistory, last), nil)
			err = b.Commit(pebble.NoSync)
		}
		_ = b.Close()
		if err != nil {
			return h.s.engineError("pruning history", err)
		}
		h.mu.Lock()
		h.count -= n
		h.bytes -= size
		h.first = last
		if n < chunk {
			h.oldest = next
		}
		h.mu.Unlock()
		if n < chunk {
			return nil
		}
	}
}
