package durable

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// load reads every record once at Open: queue names, dead letters (kept in
// memory), the history's bookkeeping, and a checksum pass over every queued
// envelope. Damaged records fail Open with a *CorruptError, or are moved to
// quarantine under WithRepair. Envelopes themselves are decoded later, by
// OpenQueue, so an agent's backlog costs memory only once it is opened.
func (s *Store) load() error {
	it, err := s.db.NewIter(nil)
	if err != nil {
		return s.engineError("reading the store", err)
	}
	var bad []op // quarantine moves, under WithRepair
	seen := map[uint32]bool{}
	for it.First(); it.Valid(); it.Next() {
		key := it.Key()
		val, err := it.ValueAndErr()
		if err != nil {
			break // it.Error reports it below
		}
		if len(key) == 0 {
			continue
		}
		var rerr error
		switch key[0] {
		case tagName:
			var qid uint32
			if qid, rerr = decodeName(val); rerr == nil {
				s.names[string(key[1:])] = qid
				s.nextQID = max(s.nextQID, qid+1)
			}
		case tagQueue:
			if len(key) != 13 {
				rerr = fmt.Errorf("%w: queue key of %d bytes", errBadRecord, len(key))
				break
			}
			if _, rerr = openFrame(val, kindEnvelope); rerr == nil {
				seen[binary.BigEndian.Uint32(key[1:])] = true
				s.seq.Store(max(s.seq.Load(), binary.BigEndian.Uint64(key[5:])))
			}
		case tagDead:
			rerr = s.dead.load(key, val)
		case tagHistory:
			if s.hist != nil {
				rerr = s.hist.load(key, val)
			} else {
				_, rerr = openFrame(val, kindHistory) // kept from a run with history on
			}
		case tagMeta:
			switch {
			case string(key) == string(metaSeqKey) && len(val) == 8:
				s.seq.Store(max(s.seq.Load(), binary.BigEndian.Uint64(val)))
			case string(key) == string(metaHistSeqKey) && len(val) == 8:
				if s.hist != nil {
					s.hist.seq.Store(max(s.hist.seq.Load(), binary.BigEndian.Uint64(val)))
				}
			default:
				rerr = fmt.Errorf("%w: unknown meta record", errBadRecord)
			}
		case tagConv, tagAgent, tagQuarantine:
			if key[0] == tagQuarantine {
				s.quarantined++
			}
		default:
			rerr = fmt.Errorf("%w: unknown key tag %q", errBadRecord, key[0])
		}
		if rerr == nil {
			continue
		}
		if !s.cfg.repair {
			_ = it.Close()
			return &CorruptError{File: s.dir, Key: readableKey(key), Detail: "a record cannot be read (open with WithRepair to move damaged records aside)", Err: rerr}
		}
		s.log.Warn("durable: moving a damaged record to quarantine", "dir", s.dir, "key", readableKey(key), "error", rerr)
		k := slices.Clone(key)
		bad = append(bad, op{kind: opSet, key: append([]byte{tagQuarantine}, k...), val: slices.Clone(val)}, op{kind: opDelete, key: k})
	}
	if err := it.Error(); err != nil {
		_ = it.Close()
		return s.engineError("reading the store", err)
	}
	if err := it.Close(); err != nil {
		return s.engineError("reading the store", err)
	}
	// Envelopes of a queue whose name record is gone cannot be routed: keep
	// them, under a name that says what happened, rather than drop them.
	for qid := range seen {
		if !s.hasQID(qid) {
			name := fmt.Sprintf("orphan-%d", qid)
			if !s.cfg.repair {
				return &CorruptError{File: s.dir, Key: readableKey(queuePrefix(qid)), Detail: "envelopes of a queue with no name record (open with WithRepair to keep them under the name " + name + ")"}
			}
			s.names[name] = qid
			bad = append(bad, op{kind: opSet, key: nameKey(name), val: encodeName(nil, qid)})
		}
	}
	if len(bad) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, o := range bad {
		var err error
		if o.kind == opSet {
			err = b.Set(o.key, o.val, nil)
		} else {
			err = b.Delete(o.key, nil)
		}
		if err != nil {
			return s.engineError("quarantining damaged records", err)
		}
		if o.kind == opSet && o.key[0] == tagQuarantine {
			s.quarantined++
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return s.engineError("quarantining damaged records", err)
	}
	return nil
}

func (s *Store) hasQID(qid uint32) bool {
	for _, id := range s.names {
		if id == qid {
			return true
		}
	}
	return false
}

// readableKey renders a key for an error message: its tag, then numbers
// where the layout has numbers.
func readableKey(k []byte) string {
	if len(k) == 0 {
		return "(empty key)"
	}
	switch {
	case k[0] == tagQueue && len(k) == 13:
		return fmt.Sprintf("queue %d seq %d", binary.BigEndian.Uint32(k[1:]), binary.BigEndian.Uint64(k[5:]))
	case k[0] == tagQueue && len(k) == 5:
		return fmt.Sprintf("queue %d", binary.BigEndian.Uint32(k[1:]))
	case (k[0] == tagDead || k[0] == tagHistory) && len(k) == 9:
		what := map[byte]string{tagDead: "dead letter", tagHistory: "history"}[k[0]]
		return fmt.Sprintf("%s %d", what, binary.BigEndian.Uint64(k[1:]))
	case k[0] == tagName:
		return fmt.Sprintf("queue name %q", k[1:])
	}
	return fmt.Sprintf("%q", k)
}

// recover loads the queue's envelopes from disk into its lanes: by key
// order, which is arrival order, each into the lane of its priority.
func (q *Queue) recover() error {
	p := queuePrefix(q.qid)
	it, err := q.s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return q.s.engineError("reading queue "+q.name, err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			break
		}
		e, notBefore, err := decodeEnvelope(val)
		if err != nil {
			return &CorruptError{File: q.s.dir, Key: readableKey(it.Key()), Detail: "a queued envelope cannot be read", Err: err}
		}
		e.Seq = binary.BigEndian.Uint64(it.Key()[5:])
		if !notBefore.IsZero() {
			q.notBefore[e.Seq] = notBefore
		}
		q.lanes[lane(e.Msg.Priority)].pushBack(e)
		q.n++
	}
	if err := it.Error(); err != nil {
		return q.s.engineError("reading queue "+q.name, err)
	}
	return nil
}
