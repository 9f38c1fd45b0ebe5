package durable_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/durable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reopen closes s and opens its directory again.
func reopen(t *testing.T, s *durable.Store, opts ...durable.Option) *durable.Store {
	t.Helper()
	require.NoError(t, s.Close())
	return openStore(t, s.Dir(), opts...)
}

func queue(t *testing.T, s *durable.Store, name string) *durable.Queue {
	t.Helper()
	q, err := s.Queue(name)
	require.NoError(t, err)
	return q
}

func TestReopenRestoresUnackedInPriorityAndArrivalOrder(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	q := queue(t, s, "billing#0")
	for _, c := range []struct {
		c string
		p acl.Priority
	}{{"n1", 0}, {"l1", -1}, {"h1", 1}, {"n2", 0}, {"n3", 0}, {"h2", 1}, {"l2", -1}, {"n4", 0}} {
		require.NoError(t, q.Push(env(c.c, c.p)))
	}
	h1, h2, n1 := q.Pop(), q.Pop(), q.Pop()
	require.Equal(t, []string{"h1", "h2", "n1"}, []string{string(h1.Msg.Content), string(h2.Msg.Content), string(n1.Msg.Content)})
	require.NoError(t, q.Ack(h1)) // handled: gone for good
	h2.Attempts = 3
	notBefore := time.Date(2031, 5, 6, 7, 8, 9, 10, time.UTC)
	require.NoError(t, q.RetryAt(h2, notBefore)) // failing, in backoff at the crash
	n1.Attempts = 1                              // in flight at the crash, attempt not yet recorded
	n2 := q.Pop()
	require.NoError(t, q.Release(n2)) // a stopped worker put it back
	seqs := map[string]uint64{"h2": h2.Seq, "n1": n1.Seq, "n2": n2.Seq}

	s = reopen(t, s)
	q = queue(t, s, "billing#0")
	assert.Equal(t, 7, q.Len(), "everything pushed and never acked, in flight or not")
	var got []string
	for e := q.Pop(); e != nil; e = q.Pop() {
		got = append(got, string(e.Msg.Content))
		if want, ok := seqs[string(e.Msg.Content)]; ok {
			assert.Equal(t, want, e.Seq, "Seq survives")
		}
		switch string(e.Msg.Content) {
		case "h2":
			assert.Equal(t, 3, e.Attempts, "Retry's count survives")
			assert.True(t, notBefore.Equal(q.NotBefore(e)), "and so does the backoff's not-before time")
		case "n1":
			assert.Equal(t, 0, e.Attempts, "an attempt never recorded with Retry is not counted")
			assert.True(t, q.NotBefore(e).IsZero())
		}
		assert.Equal(t, acl.AgentID("r"), e.Receiver)
	}
	assert.Equal(t, []string{"h2", "n1", "n2", "n3", "n4", "l1", "l2"}, got)

	// New pushes come after the recovered ones, with higher sequence numbers.
	e := env("new", 0)
	require.NoError(t, q.Push(e))
	assert.Greater(t, e.Seq, seqs["n2"])
}

func TestReopenKeepsEveryMessageField(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	q := queue(t, s, "q")
	enq := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	in := &store.Envelope{Msg: fullMessage(), Receiver: "b", Enqueued: enq}
	require.NoError(t, q.Push(in))
	empty := &store.Envelope{Msg: &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{}, Content: []byte{},
		Params: map[string]string{}, TraceContext: map[string]string{}}}
	require.NoError(t, q.Push(empty))

	s = reopen(t, s)
	q = queue(t, s, "q")
	out := q.Pop() // normal priority before fullMessage's low
	require.NotNil(t, out)
	assert.Equal(t, empty.Msg, out.Msg, "empty stays empty, not nil")
	out = q.Pop()
	require.NotNil(t, out)
	assert.Equal(t, fullMessage(), out.Msg, "every field, times with their location")
	assert.True(t, enq.Equal(out.Enqueued))
	_, off := out.Enqueued.Zone()
	assert.Equal(t, 3600, off)
}

func TestReopenDeadLettersSurvive(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	dlq := s.DeadLetters()
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		require.NoError(t, dlq.Add(context.Background(), store.DeadLetter{ID: fmt.Sprint("d", i), Message: fullMessage(), Receiver: "b",
			Reason: "max attempts", Attempts: 5, LastError: "boom", At: at.Add(time.Duration(i) * time.Minute)}))
	}
	require.NoError(t, dlq.Add(context.Background(), store.DeadLetter{ID: "no message", Reason: "agent removed"}))
	want, err := dlq.List(context.Background())
	require.NoError(t, err)

	s = reopen(t, s)
	got, err := s.DeadLetters().List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, want, got)
	n, err := s.DeadLetters().Remove(context.Background(), "d1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, s.DeadLetters().Add(context.Background(), store.DeadLetter{ID: "d9"}))

	s = reopen(t, s)
	got, err = s.DeadLetters().List(context.Background())
	require.NoError(t, err)
	var ids []string
	for _, d := range got {
		ids = append(ids, d.ID)
	}
	assert.Equal(t, []string{"d0", "d2", "no message", "d9"}, ids, "removals stay removed; order is the order of Add")
}

func TestQueuesListsEveryQueueOnDisk(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	for _, n := range []string{"b#0", "a#0", "a#1", "gone#0"} {
		q := queue(t, s, n)
		require.NoError(t, q.Push(env("x", 0)))
		require.NoError(t, q.Close())
	}
	require.NoError(t, s.DeleteQueue("gone#0"))
	require.NoError(t, s.DeleteQueue("never existed"))
	q := queue(t, s, "open#0")
	require.ErrorIs(t, s.DeleteQueue("open#0"), durable.ErrQueueOpen)
	require.NoError(t, q.Close())

	s = reopen(t, s)
	assert.Equal(t, []string{"a#0", "a#1", "b#0", "open#0"}, s.Queues(), "known before any agent opens its queue")
	assert.Equal(t, 0, queue(t, s, "gone#0").Len(), "a deleted queue comes back empty")
	assert.Equal(t, 1, queue(t, s, "a#1").Len())
}

func TestOpenQueueOnceAtATime(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	q := queue(t, s, "q")
	_, err := s.OpenQueue("q")
	require.ErrorIs(t, err, durable.ErrQueueOpen)
	_, err = s.OpenQueue("")
	require.Error(t, err)
	for _, c := range []string{"a", "b", "c"} {
		require.NoError(t, q.Push(env(c, 0)))
	}
	a, b := q.Pop(), q.Pop()
	require.NoError(t, q.Ack(a))
	require.NoError(t, q.Close())
	require.NoError(t, q.Ack(b), "envelopes taken before Close can still be acknowledged")
	require.ErrorIs(t, q.Release(b), store.ErrClosed)

	q = queue(t, s, "q")
	assert.Equal(t, []string{"c"}, drain(q), "a new handle gets what was never acknowledged")
}

func TestSettlingRequiresAnEnvelopeInFlight(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	q := queue(t, s, "q")
	e := env("a", 0)
	require.NoError(t, q.Push(e))
	require.ErrorIs(t, q.Ack(e), durable.ErrNotInFlight, "queued, not popped")
	require.ErrorIs(t, q.Retry(e), durable.ErrNotInFlight)
	require.Same(t, e, q.Pop())
	assert.Equal(t, 1, q.InFlight())
	require.NoError(t, q.Ack(e))
	require.ErrorIs(t, q.Ack(e), durable.ErrNotInFlight, "twice")
	require.Error(t, q.Push(&store.Envelope{}), "an envelope without a message")
	require.Error(t, q.Push(nil))
	require.ErrorIs(t, q.Ack(nil), durable.ErrNotInFlight, "Ack(q.Pop()) on an empty queue")
	require.ErrorIs(t, q.Release(nil), durable.ErrNotInFlight)
	require.ErrorIs(t, q.Retry(nil), durable.ErrNotInFlight)
	assert.True(t, q.NotBefore(nil).IsZero())
}

func TestQueueLimit(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir(), durable.WithQueueLimit(3))
	q := queue(t, s, "offline#0")
	for i := range 3 {
		require.NoError(t, q.Push(env(fmt.Sprint(i), 0)))
	}
	err := q.Push(env("too many", 0))
	require.ErrorIs(t, err, durable.ErrQueueFull)
	var full *durable.QueueFullError
	require.True(t, errors.As(err, &full))
	assert.Equal(t, "offline#0", full.Queue)
	assert.Equal(t, 3, full.Limit)
	assert.Contains(t, err.Error(), `"offline#0"`)

	e := q.Pop()
	require.ErrorIs(t, q.Push(env("still", 0)), durable.ErrQueueFull, "in-flight envelopes count: they are on disk")
	require.NoError(t, q.Ack(e))
	require.NoError(t, q.Push(env("3", 0)))

	other := queue(t, s, "big#0")
	other.SetLimit(5)
	for i := range 5 {
		require.NoError(t, other.Push(env(fmt.Sprint(i), 0)))
	}
	require.ErrorIs(t, other.Push(env("5", 0)), durable.ErrQueueFull)

	s = reopen(t, s, durable.WithQueueLimit(3))
	q = queue(t, s, "offline#0")
	require.ErrorIs(t, q.Push(env("after restart", 0)), durable.ErrQueueFull, "recovered envelopes count")
}

func TestSecondOpenOfADirectoryFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	openStore(t, dir)
	_, err := durable.Open(dir, durable.WithLogger(quietLog))
	require.Error(t, err)
	_, err = durable.Open("", durable.WithLogger(quietLog))
	require.Error(t, err)
}

func TestUseAfterClose(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	q := queue(t, s, "q")
	require.NoError(t, q.Push(env("a", 0)))
	e := q.Pop()
	require.NoError(t, s.Close())
	require.ErrorIs(t, q.Push(env("b", 0)), store.ErrClosed)
	require.ErrorIs(t, q.Ack(e), store.ErrClosed)
	require.ErrorIs(t, s.Sync(), store.ErrClosed)
	require.ErrorIs(t, s.DeadLetters().Add(context.Background(), store.DeadLetter{ID: "x"}), store.ErrClosed)
	_, err := s.DeadLetters().Remove(context.Background(), "x")
	require.NoError(t, err, "nothing to remove: nothing to write")
}

func TestSequenceNumbersAreNeverReused(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts := []durable.Option{durable.WithHistory(durable.Retention{MaxAge: time.Hour}), durable.WithClock(clock.Now)}
	s := openStore(t, t.TempDir(), opts...)
	q := queue(t, s, "q")
	var last uint64
	for range 3 {
		e := env("x", 0)
		require.NoError(t, q.Push(e))
		require.NoError(t, q.Ack(q.Pop()))
		last = e.Seq
	}
	h, err := s.History(context.Background(), durable.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, h, 3)
	lastHist := h[2].Seq
	clock.Add(2 * time.Hour)
	require.NoError(t, s.PruneHistory(context.Background()))
	h, err = s.History(context.Background(), durable.HistoryQuery{})
	require.NoError(t, err)
	require.Empty(t, h)

	s = reopen(t, s, opts...)
	q = queue(t, s, "q")
	require.Equal(t, 0, q.Len(), "everything was acked")
	e := env("y", 0)
	require.NoError(t, q.Push(e))
	assert.Greater(t, e.Seq, last, "even with no envelope left to remember it by")
	h, err = s.History(context.Background(), durable.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, h, 1)
	assert.Greater(t, h[0].Seq, lastHist, "history cursors stay valid across restarts, even after pruning everything")
}

func TestPushAsyncQueuesAtOnceAndIsDurableAfterWait(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir(), durable.WithQueueLimit(3))
	q := queue(t, s, "q")
	a, b := env("a", 0), env("b", acl.PriorityHigh)
	waitA, err := q.PushAsync(a)
	require.NoError(t, err)
	waitB, err := q.PushAsync(b)
	require.NoError(t, err)
	assert.Equal(t, 2, q.Len(), "queued before the disk answered")
	assert.Less(t, a.Seq, b.Seq)
	got := q.Pop()
	require.Same(t, b, got, "priority order as with Push")
	require.NoError(t, q.Ack(got), "an ack before the push's wait is fine: it is written after the push")
	require.NoError(t, waitA())
	require.NoError(t, waitB())
	_, err = q.PushAsync(env("c", 0))
	require.NoError(t, err) // not waited for: Close still writes it
	_, err = q.PushAsync(env("d", 0))
	require.NoError(t, err)
	_, err = q.PushAsync(env("e", 0))
	require.ErrorIs(t, err, durable.ErrQueueFull)
	_, err = q.PushAsync(nil)
	require.Error(t, err)

	s = reopen(t, s)
	assert.Equal(t, []string{"a", "c", "d"}, drain(queue(t, s, "q")))
	require.NoError(t, s.Close())
	_, err = q.PushAsync(env("late", 0))
	require.ErrorIs(t, err, store.ErrClosed)
}
