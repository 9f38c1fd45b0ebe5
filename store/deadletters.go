package store

import (
	"context"
	"iter"
	"sort"
)

// DeadLetterIterator is a DeadLetterQueue that yields its entries without
// copying the whole queue, as List does: All yields them oldest first, a
// page at a time, so a long queue can be scanned, filtered or counted in
// bounded memory. Entries added during the scan may or may not be seen;
// none is seen twice. Both of Caxton's stores implement it, and
// caxton.Runtime.AllDeadLetters uses it (falling back to List for a store
// that does not).
type DeadLetterIterator interface {
	// All yields the dead letters oldest first; when ctx ends it yields
	// ctx's error and stops.
	All(ctx context.Context) iter.Seq2[DeadLetter, error]
}

// DeadLetterPageSize is how many dead letters DeadLetterPages copies at a
// time.
const DeadLetterPageSize = 256

// DeadLetterPages builds All for a queue whose entries carry increasing
// sequence numbers: page(after, n) returns, in order, up to n entries
// numbered above after and the number of the last one (it runs under the
// queue's lock; the yields do not). ctx is checked before every page.
func DeadLetterPages(ctx context.Context, page func(after uint64, n int) ([]DeadLetter, uint64)) iter.Seq2[DeadLetter, error] {
	return func(yield func(DeadLetter, error) bool) {
		var after uint64
		for {
			if err := ctx.Err(); err != nil {
				yield(DeadLetter{}, err)
				return
			}
			items, last := page(after, DeadLetterPageSize)
			for _, d := range items {
				if !yield(d, nil) {
					return
				}
			}
			if len(items) < DeadLetterPageSize {
				return
			}
			after = last
		}
	}
}

// SeqPage is page for DeadLetterPages over entries sorted by seq: it
// returns the up to n entries after the one numbered after, converted by
// get, and the last one's seq.
func SeqPage[E any](entries []E, seq func(E) uint64, get func(E) DeadLetter, after uint64, n int) ([]DeadLetter, uint64) {
	i := sort.Search(len(entries), func(i int) bool { return seq(entries[i]) > after })
	end := min(len(entries), i+n)
	if i >= end {
		return nil, after
	}
	out := make([]DeadLetter, 0, end-i)
	for _, e := range entries[i:end] {
		out = append(out, get(e))
	}
	return out, seq(entries[end-1])
}
