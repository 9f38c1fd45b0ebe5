package durable

import (
	"context"
	"encoding/binary"
	"iter"
	"slices"
	"sync"

	"github.com/caxton-go/caxton/store"
)

var (
	_ store.DeadLetterQueue    = (*deadLetters)(nil)
	_ store.DeadLetterIterator = (*deadLetters)(nil)
)

// deadLetters is the durable dead-letter queue. Every entry is written to
// disk (fsync'd) before Add returns and mirrored in memory, so List and Len
// cost no disk reads and keep working after the store is closed, as with
// store.Memory. Dead letters are failures — few — so the mirror is cheap.
type deadLetters struct {
	s    *Store
	mu   sync.Mutex
	list []deadLetter // ordered by seq: the order of Add
	next uint64       // last seq handed out
}

type deadLetter struct {
	seq uint64
	d   store.DeadLetter
}

// load takes one dead letter from disk during Open.
func (q *deadLetters) load(key, val []byte) error {
	d, err := decodeDeadLetter(val)
	if err != nil {
		return err
	}
	seq := binary.BigEndian.Uint64(key[1:])
	q.list = append(q.list, deadLetter{seq: seq, d: d}) // keys arrive in order
	q.next = max(q.next, seq)
	return nil
}

// Add stores d and returns once it is on disk. ctx is checked before the
// write; the write itself (one fsync, shared with concurrent writers) is
// not interrupted.
func (q *deadLetters) Add(ctx context.Context, d store.DeadLetter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	q.next++
	seq := q.next
	q.mu.Unlock()
	if err := q.s.write(op{kind: opSet, key: seqKey(tagDead, seq), val: encodeDeadLetter(nil, &d)}); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	// Concurrent Adds may finish out of order: insert by seq.
	i, _ := slices.BinarySearchFunc(q.list, seq, func(x deadLetter, s uint64) int {
		switch {
		case x.seq < s:
			return -1
		case x.seq > s:
			return 1
		}
		return 0
	})
	q.list = slices.Insert(q.list, i, deadLetter{seq: seq, d: d})
	return nil
}

// List returns the dead letters, oldest first (a copy of the mirror: no
// disk read). All pages through a long queue instead.
func (q *deadLetters) List(ctx context.Context) ([]store.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]store.DeadLetter, len(q.list))
	for i, x := range q.list {
		out[i] = x.d
	}
	return out, nil
}

// All yields the dead letters oldest first, copying a page at a time
// (store.DeadLetterIterator).
func (q *deadLetters) All(ctx context.Context) iter.Seq2[store.DeadLetter, error] {
	return store.DeadLetterPages(ctx, func(after uint64, n int) ([]store.DeadLetter, uint64) {
		q.mu.Lock()
		defer q.mu.Unlock()
		return store.SeqPage(q.list, func(x deadLetter) uint64 { return x.seq }, func(x deadLetter) store.DeadLetter { return x.d }, after, n)
	})
}

// Remove deletes the dead letters with the given ids, on disk first, and
// returns how many it found. ctx is checked before the write, which is
// then not interrupted (the mirror must follow what the disk holds).
func (q *deadLetters) Remove(ctx context.Context, ids ...string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var ops []op
	for _, x := range q.list {
		if slices.Contains(ids, x.d.ID) {
			ops = append(ops, op{kind: opDelete, key: seqKey(tagDead, x.seq)})
		}
	}
	if len(ops) == 0 {
		return 0, nil
	}
	// Held across the write so a concurrent Remove cannot count the same
	// entries; removal is rare (replay, purge).
	if err := q.s.write(ops...); err != nil {
		return 0, err
	}
	q.list = slices.DeleteFunc(q.list, func(x deadLetter) bool { return slices.Contains(ids, x.d.ID) })
	return len(ops), nil
}

// Len returns the number of stored dead letters.
func (q *deadLetters) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.list)
}
