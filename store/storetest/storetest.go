// Package storetest checks that a store.Store keeps the contract the
// runtime relies on: priority lanes in FIFO order, increasing sequence
// numbers, Release to the front of its lane, Retry and Ack, independent
// queues, dead letters and Close. Every implementation runs the same suite,
// the way fstest checks an fs.FS:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return mystore.Open(t.TempDir()) })
//	}
//
// What differs between implementations (what a durable store keeps across a
// reopen, how strictly it checks envelopes it did not hand out) is tested
// beside each one.
package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Open returns a fresh, empty store for one test; the test closes what it
// needs closed (use t.Cleanup for the rest).
type Open func(t *testing.T) store.Store

// Run runs the contract suite against the stores open makes, each check as
// a parallel subtest.
func Run(t *testing.T, open Open) {
	t.Helper()
	for _, c := range []struct {
		name string
		run  func(*testing.T, Open)
	}{
		{"PriorityLanesAreFIFO", priorityLanesAreFIFO},
		{"SeqIncreases", seqIncreases},
		{"ReleaseGoesToFrontOfItsLane", releaseGoesToFrontOfItsLane},
		{"GrowsAndWraps", growsAndWraps},
		{"MatchesModel", matchesModel},
		{"RetryAckClose", retryAckClose},
		{"QueuesAreIndependent", queuesAreIndependent},
		{"DeadLetters", deadLetters},
		{"DeadLetterIterator", deadLetterIterator},
		{"Close", close},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open)
		})
	}
}

// Env returns an envelope carrying content at priority p.
func Env(content string, p acl.Priority) *store.Envelope {
	return &store.Envelope{Msg: &acl.Message{Performative: acl.Inform, Content: []byte(content), Priority: p}, Receiver: "r"}
}

// Drain pops everything queued and returns the contents in order.
func Drain(q store.Queue) []string {
	var out []string
	for e := q.Pop(); e != nil; e = q.Pop() {
		out = append(out, string(e.Msg.Content))
	}
	return out
}

func openQueue(t *testing.T, s store.Store, name string) store.Queue {
	t.Helper()
	q, err := s.OpenQueue(name)
	require.NoError(t, err)
	return q
}

func priorityLanesAreFIFO(t *testing.T, open Open) {
	q := openQueue(t, open(t), "q")
	assert.Nil(t, q.Pop(), "empty")
	assert.Equal(t, 0, q.Len())
	in := []struct {
		c string
		p acl.Priority
	}{
		{"n1", acl.PriorityNormal}, {"l1", acl.PriorityLow}, {"h1", acl.PriorityHigh}, {"n2", acl.PriorityNormal},
		{"h2", acl.PriorityHigh}, {"l2", acl.PriorityLow}, {"n3", acl.PriorityNormal},
		{"hx", acl.Priority(5)}, {"lx", acl.Priority(-5)}, // out-of-range values clamp to the edge lanes
	}
	for _, e := range in {
		require.NoError(t, q.Push(Env(e.c, e.p)))
	}
	assert.Equal(t, len(in), q.Len())
	assert.Equal(t, []string{"h1", "h2", "hx", "n1", "n2", "n3", "l1", "l2", "lx"}, Drain(q))
	assert.Equal(t, 0, q.Len())
}

func seqIncreases(t *testing.T, open Open) {
	q := openQueue(t, open(t), "q")
	var last uint64
	for i := range 50 {
		e := Env(fmt.Sprint(i), acl.Priority(i%3-1))
		require.NoError(t, q.Push(e))
		assert.Greater(t, e.Seq, last)
		last = e.Seq
		if i%4 == 0 {
			q.Pop()
		}
	}
	assert.Equal(t, uint64(50), last, "a fresh store numbers from 1")
	e := q.Pop()
	seq := e.Seq
	require.NoError(t, q.Release(e))
	assert.Equal(t, seq, q.Pop().Seq, "Release keeps the envelope's Seq")
}

func releaseGoesToFrontOfItsLane(t *testing.T, open Open) {
	q := openQueue(t, open(t), "q")
	for _, c := range []string{"a", "b", "c"} {
		require.NoError(t, q.Push(Env(c, 0)))
	}
	a, b := q.Pop(), q.Pop()
	require.NoError(t, q.Push(Env("d", 0)))
	require.NoError(t, q.Push(Env("H", acl.PriorityHigh)))
	// Released in reverse, as the mailbox does, to restore a, b.
	require.NoError(t, q.Release(b))
	require.NoError(t, q.Release(a))
	assert.Equal(t, 4+1, q.Len())
	assert.Equal(t, []string{"H", "a", "b", "c", "d"}, Drain(q))
}

func growsAndWraps(t *testing.T, open Open) {
	q := openQueue(t, open(t), "q")
	next, want := 0, 0
	push := func(n int) {
		for range n {
			require.NoError(t, q.Push(Env(fmt.Sprint(next), 0)))
			next++
		}
	}
	pop := func(n int) {
		for range n {
			e := q.Pop()
			require.NotNil(t, e)
			require.Equal(t, fmt.Sprint(want), string(e.Msg.Content))
			require.NoError(t, q.Ack(e))
			want++
		}
	}
	push(10)
	pop(7)
	push(14) // 17 queued: wrapped, then grown
	pop(5)
	push(40)
	assert.Equal(t, 52, q.Len())
	pop(52)
	assert.Nil(t, q.Pop())
	push(1500) // a burst beyond 1024 is given back once drained
	pop(1500)
	push(3)
	pop(3)
	assert.Equal(t, 0, q.Len())
}

// TestContractMatchesModel runs random pushes, pops, releases and acks
// against a plain slice-per-priority model.
func matchesModel(t *testing.T, open Open) {
	q := openQueue(t, open(t), "q")
	rng := rand.New(rand.NewPCG(1, 2))
	var model [3][]*store.Envelope // low, normal, high
	var inflight []*store.Envelope
	var seq uint64
	laneOf := func(e *store.Envelope) int { return int(e.Msg.Priority) + 1 }
	for i := range 3000 {
		switch op := rng.IntN(10); {
		case op < 5: // push
			e := Env(fmt.Sprint(i), acl.Priority(rng.IntN(3)-1))
			require.NoError(t, q.Push(e))
			seq++
			require.Equal(t, seq, e.Seq)
			model[laneOf(e)] = append(model[laneOf(e)], e)
		case op < 8: // pop
			got := q.Pop()
			var want *store.Envelope
			for l := 2; l >= 0; l-- {
				if len(model[l]) > 0 {
					want, model[l] = model[l][0], model[l][1:]
					break
				}
			}
			require.Same(t, want, got, "op %d", i)
			if got != nil {
				inflight = append(inflight, got)
			}
		case op < 9: // release the most recently popped envelope
			if len(inflight) == 0 {
				continue
			}
			e := inflight[len(inflight)-1]
			inflight = inflight[:len(inflight)-1]
			require.NoError(t, q.Release(e))
			model[laneOf(e)] = append([]*store.Envelope{e}, model[laneOf(e)]...)
		default: // ack the oldest popped envelope
			if len(inflight) == 0 {
				continue
			}
			require.NoError(t, q.Ack(inflight[0]))
			inflight = inflight[1:]
		}
		require.Equal(t, len(model[0])+len(model[1])+len(model[2]), q.Len(), "op %d", i)
	}
}

func retryAckClose(t *testing.T, open Open) {
	q := openQueue(t, open(t), "q")
	require.NoError(t, q.Push(Env("a", 0)))
	e := q.Pop()
	e.Attempts = 2
	require.NoError(t, q.Retry(e))
	require.NoError(t, q.Ack(e))
	assert.Equal(t, 0, q.Len())
	assert.Equal(t, 2, e.Attempts)
	require.NoError(t, q.Close())
}

func queuesAreIndependent(t *testing.T, open Open) {
	s := open(t)
	a, b := openQueue(t, s, "a"), openQueue(t, s, "b")
	require.NoError(t, a.Push(Env("for a", 0)))
	assert.Equal(t, 0, b.Len())
	assert.Nil(t, b.Pop())
	assert.Equal(t, []string{"for a"}, Drain(a))
}

func deadLetters(t *testing.T, open Open) {
	s := open(t)
	dlq := s.DeadLetters()
	assert.Equal(t, 0, dlq.Len())
	list, err := dlq.List(context.Background())
	require.NoError(t, err)
	assert.Empty(t, list)

	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 4 {
		require.NoError(t, dlq.Add(context.Background(), store.DeadLetter{
			ID: fmt.Sprint("d", i), Message: Env(fmt.Sprint(i), 0).Msg, Receiver: "r",
			Reason: "max attempts", Attempts: i, LastError: "boom", At: at.Add(time.Duration(i) * time.Second),
		}))
	}
	assert.Equal(t, 4, dlq.Len())
	list, err = dlq.List(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 4)
	for i, d := range list {
		assert.Equal(t, fmt.Sprint("d", i), d.ID, "oldest first")
		assert.Equal(t, i, d.Attempts)
		assert.Equal(t, "max attempts", d.Reason)
		assert.Equal(t, at.Add(time.Duration(i)*time.Second), d.At)
	}
	list[0].Reason = "scribbled"
	again, _ := dlq.List(context.Background())
	assert.Equal(t, "max attempts", again[0].Reason, "List returns a copy")

	n, err := dlq.Remove(context.Background(), "d1", "nope", "d3")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = dlq.Remove(context.Background(), "d1")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "already removed")
	n, err = dlq.Remove(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	list, _ = dlq.List(context.Background())
	require.Len(t, list, 2)
	assert.Equal(t, "d0", list[0].ID)
	assert.Equal(t, "d2", list[1].ID)
	assert.Equal(t, 2, dlq.Len())

	// A context that has ended is refused before anything is done.
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = dlq.List(ended)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, dlq.Add(ended, store.DeadLetter{ID: "late"}), context.Canceled)
	n, err = dlq.Remove(ended, "d0")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, n)
	assert.Equal(t, 2, dlq.Len(), "nothing added or removed under an ended context")
}

// deadLetterIterator checks All, for a queue that implements
// store.DeadLetterIterator: every entry once, oldest first, across pages,
// also when entries are removed between pages; an early stop; a context
// that ends.
func deadLetterIterator(t *testing.T, open Open) {
	s := open(t)
	it, ok := s.DeadLetters().(store.DeadLetterIterator)
	if !ok {
		t.Skip("the dead-letter queue is not a store.DeadLetterIterator")
	}
	n := store.DeadLetterPageSize*2 + 10
	for i := range n {
		require.NoError(t, s.DeadLetters().Add(context.Background(), store.DeadLetter{ID: fmt.Sprintf("d%04d", i), Receiver: "r"}))
	}
	ctx := context.Background()
	var ids []string
	for d, err := range it.All(ctx) {
		require.NoError(t, err)
		ids = append(ids, d.ID)
		if len(ids) == store.DeadLetterPageSize { // between pages: the next page starts after the last one seen
			_, err := s.DeadLetters().Remove(context.Background(), fmt.Sprintf("d%04d", 0), fmt.Sprintf("d%04d", store.DeadLetterPageSize+1))
			require.NoError(t, err)
		}
	}
	require.Len(t, ids, n-1, "all but the unseen entry removed during the scan")
	assert.True(t, sort.StringsAreSorted(ids), "oldest first")
	assert.NotContains(t, ids, fmt.Sprintf("d%04d", store.DeadLetterPageSize+1))

	seen := 0
	for range it.All(ctx) {
		seen++
		if seen == 3 {
			break
		}
	}
	assert.Equal(t, 3, seen, "stops when the loop does")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var errs []error
	for _, err := range it.All(cancelled) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], context.Canceled)
}

func close(t *testing.T, open Open) {
	s := open(t)
	require.NoError(t, s.DeadLetters().Add(context.Background(), store.DeadLetter{ID: "kept"}))
	require.NoError(t, s.Close())
	q, err := s.OpenQueue("late")
	assert.ErrorIs(t, err, store.ErrClosed)
	assert.Nil(t, q)
	list, err := s.DeadLetters().List(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 1, "dead letters stay readable after Close")
	assert.Equal(t, "kept", list[0].ID)
	require.NoError(t, s.Close(), "closing twice")
}
