package durable_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/durable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for retention by age.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// say pushes a message from sender to receiver's queue in conversation
// conv and acks it, as a handled message.
func say(t *testing.T, s *durable.Store, from, to acl.AgentID, conv, text string) {
	t.Helper()
	q, err := s.Queue(string(to) + "#0")
	require.NoError(t, err)
	defer q.Close()
	m := &acl.Message{Performative: acl.Inform, Sender: from, Receivers: []acl.AgentID{to}, ConversationID: conv, Content: []byte(text)}
	require.NoError(t, q.Push(&store.Envelope{Msg: m, Receiver: to}))
	require.NoError(t, q.Ack(q.Pop()))
}

func contents(es []durable.HistoryEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, string(e.Msg.Content))
	}
	return out
}

func TestHistoryByConversationAndAgent(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openStore(t, t.TempDir(), durable.WithHistory(durable.Retention{MaxEntries: 1000}), durable.WithClock(clock.Now))
	say(t, s, "buyer", "seller", "c1", "cfp")
	clock.Add(time.Second)
	say(t, s, "seller", "buyer", "c1", "propose")
	say(t, s, "buyer", "other", "c2", "unrelated")
	say(t, s, "buyer", "seller", "c1", "accept")
	say(t, s, "", "seller", "", "from the host")

	h, err := s.History(context.Background(), durable.HistoryQuery{Conversation: "c1"})
	require.NoError(t, err)
	assert.Equal(t, []string{"cfp", "propose", "accept"}, contents(h), "acked messages stay in the history")
	assert.Equal(t, acl.AgentID("seller"), h[0].Receiver)
	assert.Equal(t, acl.AgentID("buyer"), h[0].Msg.Sender)
	assert.Equal(t, clock.Now(), h[2].At, "stamped by the store's clock")
	assert.Less(t, h[0].Seq, h[1].Seq)

	h, err = s.History(context.Background(), durable.HistoryQuery{Agent: "seller"})
	require.NoError(t, err)
	assert.Equal(t, []string{"cfp", "propose", "accept", "from the host"}, contents(h), "sent to or by the agent")
	h, err = s.History(context.Background(), durable.HistoryQuery{Conversation: "c1", Agent: "buyer"})
	require.NoError(t, err)
	assert.Equal(t, []string{"cfp", "propose", "accept"}, contents(h))
	h, err = s.History(context.Background(), durable.HistoryQuery{})
	require.NoError(t, err)
	assert.Len(t, h, 5, "everything")

	// Paging and time bounds.
	h, err = s.History(context.Background(), durable.HistoryQuery{Agent: "seller", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"cfp", "propose"}, contents(h))
	h, err = s.History(context.Background(), durable.HistoryQuery{Agent: "seller", Limit: 2, After: h[1].Seq})
	require.NoError(t, err)
	assert.Equal(t, []string{"accept", "from the host"}, contents(h))
	h, err = s.History(context.Background(), durable.HistoryQuery{Conversation: "c1", Since: clock.Now()})
	require.NoError(t, err)
	assert.Equal(t, []string{"propose", "accept"}, contents(h))

	s = reopen(t, s, durable.WithHistory(durable.Retention{MaxEntries: 1000}), durable.WithClock(clock.Now))
	h, err = s.History(context.Background(), durable.HistoryQuery{Conversation: "c1"})
	require.NoError(t, err)
	assert.Equal(t, []string{"cfp", "propose", "accept"}, contents(h), "the history survives a reopen")
	say(t, s, "seller", "buyer", "c1", "inform-done")
	h, err = s.History(context.Background(), durable.HistoryQuery{Conversation: "c1"})
	require.NoError(t, err)
	assert.Equal(t, []string{"cfp", "propose", "accept", "inform-done"}, contents(h), "and keeps its order")
}

func TestHistoryRetention(t *testing.T) {
	t.Parallel()
	t.Run("entries", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, t.TempDir(), durable.WithHistory(durable.Retention{MaxEntries: 5}))
		for i := range 12 {
			say(t, s, "a", "b", fmt.Sprint("c", i%2), fmt.Sprint(i))
		}
		require.NoError(t, s.PruneHistory(context.Background()))
		h, err := s.History(context.Background(), durable.HistoryQuery{})
		require.NoError(t, err)
		assert.Equal(t, []string{"7", "8", "9", "10", "11"}, contents(h), "the newest five")
		h, err = s.History(context.Background(), durable.HistoryQuery{Conversation: "c0"})
		require.NoError(t, err)
		assert.Equal(t, []string{"8", "10"}, contents(h), "the indexes are pruned too")
		h, err = s.History(context.Background(), durable.HistoryQuery{Agent: "a"})
		require.NoError(t, err)
		assert.Len(t, h, 5)

		s = reopen(t, s, durable.WithHistory(durable.Retention{MaxEntries: 3}))
		require.NoError(t, s.PruneHistory(context.Background()))
		h, err = s.History(context.Background(), durable.HistoryQuery{})
		require.NoError(t, err)
		assert.Equal(t, []string{"9", "10", "11"}, contents(h), "counted again after a reopen")
	})
	t.Run("age", func(t *testing.T) {
		t.Parallel()
		clock := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
		s := openStore(t, t.TempDir(), durable.WithHistory(durable.Retention{MaxAge: time.Hour}), durable.WithClock(clock.Now))
		say(t, s, "a", "b", "c", "old")
		clock.Add(40 * time.Minute)
		say(t, s, "a", "b", "c", "newer")
		clock.Add(30 * time.Minute) // "old" is 70 minutes old now
		require.NoError(t, s.PruneHistory(context.Background()))
		h, err := s.History(context.Background(), durable.HistoryQuery{Conversation: "c"})
		require.NoError(t, err)
		assert.Equal(t, []string{"newer"}, contents(h))
		clock.Add(time.Hour)
		require.NoError(t, s.PruneHistory(context.Background()))
		h, err = s.History(context.Background(), durable.HistoryQuery{})
		require.NoError(t, err)
		assert.Empty(t, h)
		say(t, s, "a", "b", "c", "fresh")
		h, err = s.History(context.Background(), durable.HistoryQuery{})
		require.NoError(t, err)
		assert.Equal(t, []string{"fresh"}, contents(h), "an emptied history fills again")
	})
	t.Run("bytes", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, t.TempDir(), durable.WithHistory(durable.Retention{MaxBytes: 1000}))
		for i := range 40 {
			say(t, s, "a", "b", "", fmt.Sprintf("%03d-%s", i, "padding-padding-padding"))
		}
		require.NoError(t, s.PruneHistory(context.Background()))
		h, err := s.History(context.Background(), durable.HistoryQuery{Limit: 1000})
		require.NoError(t, err)
		require.NotEmpty(t, h)
		assert.Less(t, len(h), 40)
		assert.Equal(t, "039-padding-padding-padding", string(h[len(h)-1].Msg.Content), "the newest kept")
	})
	t.Run("automatic", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, t.TempDir(), durable.WithHistory(durable.Retention{MaxEntries: 10}))
		for i := range 30 {
			say(t, s, "a", "b", "", fmt.Sprint(i))
		}
		// The writer prunes on its own goroutine, after the pushes return.
		assert.Eventually(t, func() bool {
			h, err := s.History(context.Background(), durable.HistoryQuery{})
			return err == nil && len(h) <= 11
		}, 5*time.Second, time.Millisecond, "pruned by the writer once a bound is passed by a tenth")
	})
}

func TestHistoryOffAndBadRetention(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	_, err := s.History(context.Background(), durable.HistoryQuery{})
	require.ErrorIs(t, err, durable.ErrNoHistory)
	require.ErrorIs(t, s.PruneHistory(context.Background()), durable.ErrNoHistory)
	_, err = durable.Open(t.TempDir(), durable.WithHistory(durable.Retention{}))
	require.ErrorContains(t, err, "MaxAge")
	_, err = durable.Open(t.TempDir(), durable.WithHistory(durable.Retention{MaxEntries: -1}))
	require.Error(t, err)

	s = openStore(t, t.TempDir(), durable.WithHistory(durable.Retention{MaxEntries: 10}))
	require.NoError(t, s.Close())
	_, err = s.History(context.Background(), durable.HistoryQuery{})
	require.ErrorIs(t, err, store.ErrClosed)
	require.ErrorIs(t, s.PruneHistory(context.Background()), store.ErrClosed)
}

// endsAfter is a context whose Err turns to context.Canceled at its n-th
// call: a deterministic "ends during the read". Done never fires.
type endsAfter struct {
	context.Context
	n atomic.Int32
}

func (c *endsAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestHistoryHonoursContext(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir(), durable.WithHistory(durable.Retention{MaxEntries: 10000}))
	q, err := s.Queue("b#0")
	require.NoError(t, err)
	for i := range 600 {
		m := &acl.Message{Performative: acl.Inform, Sender: "a", Receivers: []acl.AgentID{"b"}, ConversationID: "c", Content: fmt.Appendf(nil, "%d", i)}
		require.NoError(t, q.Push(&store.Envelope{Msg: m, Receiver: "b"}))
	}
	require.NoError(t, q.Close())

	ended, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.History(ended, durable.HistoryQuery{})
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.PruneHistory(ended), context.Canceled)
	//lint:ignore SA1012 a nil context is refused with an error, not a panic
	_, err = s.History(nil, durable.HistoryQuery{})
	require.Error(t, err)

	// Ends during the scan: the first check (before anything is read) and
	// the one after 256 entries pass, the one after 512 does not.
	mid := &endsAfter{Context: context.Background()}
	mid.n.Store(2)
	_, err = s.History(mid, durable.HistoryQuery{Limit: 1000})
	require.ErrorIs(t, err, context.Canceled)

	h, err := s.History(context.Background(), durable.HistoryQuery{Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, h, 600, "the store is untouched by the calls given up")
}
