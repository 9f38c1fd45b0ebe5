package mailbox_test

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/mailbox"
	"github.com/caxton-go/caxton/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const mbTimeout = 5 * time.Second

// mbNew returns a paused mailbox whose start callback only counts.
func mbNew(t *testing.T, capacity int) *mailbox.Mailbox {
	t.Helper()
	m, _ := mbNewCounting(t, capacity)
	return m
}

func mbNewCounting(t *testing.T, capacity int) (*mailbox.Mailbox, *atomic.Int32) {
	t.Helper()
	q, err := store.NewMemory().OpenQueue("mb")
	require.NoError(t, err)
	starts := new(atomic.Int32)
	return mailbox.New(q, capacity, func() { starts.Add(1) }), starts
}

func mbClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func mbEnv(content string, p acl.Priority) store.Envelope {
	return store.Envelope{Msg: &acl.Message{Performative: acl.Inform, Content: []byte(content), Priority: p}, Receiver: "r"}
}

func mbContents(es []*store.Envelope) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e.Msg.Content)
	}
	return out
}

func mbTake(m *mailbox.Mailbox, n int) []string {
	return mbContents(m.Take(make([]*store.Envelope, n)))
}

// mbPushAsync runs a blocking Push in a goroutine and returns its result.
func mbPushAsync(ctx context.Context, m *mailbox.Mailbox, e store.Envelope, abort <-chan struct{}) <-chan error {
	res := make(chan error, 1)
	go func() { res <- m.Push(ctx, e, true, abort) }()
	return res
}

// mbAwaitBlocked waits until n goroutines are parked inside Mailbox.Push:
// a handshake on goroutine state instead of a sleep.
func mbAwaitBlocked(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(mbTimeout)
	buf := make([]byte, 1<<20)
	for {
		got := 0
		k := runtime.Stack(buf, true)
		for _, g := range bytes.Split(buf[:k], []byte("\n\n")) {
			if bytes.Contains(g, []byte("[select")) && bytes.Contains(g, []byte("mailbox.(*Mailbox).Push")) {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pusher(s) blocked, want %d", got, n)
		}
		runtime.Gosched()
	}
}

func mbResult(t *testing.T, res <-chan error) error {
	t.Helper()
	select {
	case err := <-res:
		return err
	case <-time.After(mbTimeout):
		t.Fatal("blocked Push was not released")
		return nil
	}
}

func mbNotDone(t *testing.T, res <-chan error) {
	t.Helper()
	select {
	case err := <-res:
		t.Fatalf("Push returned early: %v", err)
	default:
	}
}

func TestCapacityAndErrFull(t *testing.T) {
	ctx := context.Background()
	m := mbNew(t, 2)
	require.NoError(t, m.Push(ctx, mbEnv("a", 0), false, nil))
	require.NoError(t, m.Push(ctx, mbEnv("b", 0), false, nil))
	assert.Equal(t, 2, m.Depth())
	assert.ErrorIs(t, m.Push(ctx, mbEnv("c", 0), false, nil), mailbox.ErrFull)
	assert.Equal(t, 2, m.Depth())

	// In-flight envelopes do not count against capacity.
	assert.Equal(t, []string{"a"}, mbTake(m, 1))
	assert.Equal(t, 1, m.Depth())
	require.NoError(t, m.Push(ctx, mbEnv("c", 0), false, nil))
	assert.ErrorIs(t, m.Push(ctx, mbEnv("d", 0), false, nil), mailbox.ErrFull)
	assert.Equal(t, []string{"b", "c"}, mbTake(m, 10))
	assert.Equal(t, 0, m.Depth())
}

func TestBlockingPushIsReleasedByTake(t *testing.T) {
	ctx := context.Background()
	m := mbNew(t, 1)
	require.NoError(t, m.Push(ctx, mbEnv("first", 0), true, nil))
	r1 := mbPushAsync(ctx, m, mbEnv("second", 0), nil)
	mbAwaitBlocked(t, 1)
	mbNotDone(t, r1)
	assert.Equal(t, 1, m.Depth())

	assert.Equal(t, []string{"first"}, mbTake(m, 1))
	require.NoError(t, mbResult(t, r1))
	assert.Equal(t, 1, m.Depth())
	assert.Equal(t, []string{"second"}, mbTake(m, 1))
}

func TestSeveralBlockedPushersAllGetThrough(t *testing.T) {
	ctx := context.Background()
	m := mbNew(t, 1)
	require.NoError(t, m.Push(ctx, mbEnv("0", 0), false, nil))
	var res []<-chan error
	for i := 1; i <= 3; i++ {
		res = append(res, mbPushAsync(ctx, m, mbEnv(strconv.Itoa(i), 0), nil))
	}
	mbAwaitBlocked(t, 3)
	var got []string
	for range 4 {
		// Each Take frees one slot; exactly one waiter wins it.
		for len(got) < 4 {
			if taken := mbTake(m, 1); len(taken) == 1 {
				got = append(got, taken[0])
				break
			}
			runtime.Gosched()
		}
	}
	for _, r := range res {
		require.NoError(t, mbResult(t, r))
	}
	assert.ElementsMatch(t, []string{"0", "1", "2", "3"}, got)
	assert.Equal(t, "0", got[0])
	assert.Equal(t, 0, m.Depth())
}

func TestBlockedPushHonoursContextAndAbort(t *testing.T) {
	m := mbNew(t, 1)
	require.NoError(t, m.Push(context.Background(), mbEnv("full", 0), false, nil))

	ctx, cancel := context.WithCancel(context.Background())
	r := mbPushAsync(ctx, m, mbEnv("ctx", 0), nil)
	mbAwaitBlocked(t, 1)
	cancel()
	assert.ErrorIs(t, mbResult(t, r), context.Canceled)

	abort := make(chan struct{})
	r = mbPushAsync(context.Background(), m, mbEnv("abort", 0), abort)
	mbAwaitBlocked(t, 1)
	close(abort)
	assert.ErrorIs(t, mbResult(t, r), mailbox.ErrAborted)

	assert.ErrorIs(t, m.Push(ctx, mbEnv("dead ctx", 0), true, nil), context.Canceled, "already cancelled")
	assert.Equal(t, 1, m.Depth())
	assert.Equal(t, []string{"full"}, mbTake(m, 10), "neither given-up push landed")

	// Abandoned waiters leave the box usable.
	require.NoError(t, m.Push(context.Background(), mbEnv("after", 0), false, nil))
	assert.Equal(t, []string{"after"}, mbTake(m, 10))
}

func TestCloseReturnsQueuedAndRefusesPushes(t *testing.T) {
	ctx := context.Background()
	m := mbNew(t, 2)
	require.NoError(t, m.Push(ctx, mbEnv("a", 0), false, nil))
	require.NoError(t, m.Push(ctx, mbEnv("b", acl.PriorityHigh), false, nil))
	r1 := mbPushAsync(ctx, m, mbEnv("blocked1", 0), nil)
	r2 := mbPushAsync(ctx, m, mbEnv("blocked2", 0), nil)
	mbAwaitBlocked(t, 2)

	rest := m.Close()
	assert.Equal(t, []string{"b", "a"}, mbContents(rest), "in handling order")
	assert.Equal(t, 0, m.Depth())
	assert.ErrorIs(t, mbResult(t, r1), mailbox.ErrClosed)
	assert.ErrorIs(t, mbResult(t, r2), mailbox.ErrClosed)
	assert.ErrorIs(t, m.Push(ctx, mbEnv("late", 0), false, nil), mailbox.ErrClosed)
	assert.ErrorIs(t, m.Push(ctx, mbEnv("late", 0), true, nil), mailbox.ErrClosed)
	assert.ErrorIs(t, m.PushForce(mbEnv("late", 0)), mailbox.ErrClosed)
	assert.Empty(t, m.Close(), "closing twice returns nothing more")
	assert.Empty(t, mbTake(m, 10))
}

func TestWorkersStartOnDemand(t *testing.T) {
	ctx := context.Background()
	m, starts := mbNewCounting(t, 8)
	require.NoError(t, m.Push(ctx, mbEnv("a", 0), false, nil))
	assert.Equal(t, int32(0), starts.Load(), "a new mailbox is paused")
	assert.True(t, mbClosed(m.Stopping()), "a paused mailbox tells workers to stop")

	m.Resume()
	assert.Equal(t, int32(1), starts.Load(), "Resume starts a worker for waiting messages")
	assert.False(t, mbClosed(m.Stopping()))
	require.NoError(t, m.Push(ctx, mbEnv("b", 0), false, nil))
	require.NoError(t, m.PushForce(mbEnv("c", 0)))
	assert.Equal(t, int32(1), starts.Load(), "one worker at a time")

	// The worker protocol: Take until empty, then Idle.
	assert.Equal(t, []string{"a", "b", "c"}, mbTake(m, 8))
	m.Done(3)
	assert.Empty(t, mbTake(m, 8))
	require.NoError(t, m.Push(ctx, mbEnv("slipped in", 0), false, nil))
	assert.False(t, m.Idle(), "a message arrived: keep working")
	assert.Equal(t, []string{"slipped in"}, mbTake(m, 8))
	m.Done(1)
	assert.True(t, m.Idle(), "empty: the worker retires")
	assert.Equal(t, int32(1), starts.Load())

	require.NoError(t, m.Push(ctx, mbEnv("d", 0), false, nil))
	assert.Equal(t, int32(2), starts.Load(), "the next message starts a new worker")
	require.NoError(t, m.Push(ctx, mbEnv("e", 0), false, nil))
	assert.Equal(t, int32(2), starts.Load())
	// Each worker gets its own stop channel (a retired worker's is
	// dropped, so an idle box holds none), and Pause closes the running one's.
	stop := m.Stopping()
	assert.False(t, mbClosed(stop))
	m.Pause()
	assert.True(t, mbClosed(stop))
}

func TestResumeOnEmptyBoxStartsNothing(t *testing.T) {
	m, starts := mbNewCounting(t, 4)
	m.Resume()
	m.Resume()
	assert.Equal(t, int32(0), starts.Load())
	require.NoError(t, m.PushForce(mbEnv("a", 0)))
	assert.Equal(t, int32(1), starts.Load())
}

func TestPauseWaitsForTheWorkerAndExitRestartsIt(t *testing.T) {
	ctx := context.Background()
	m, starts := mbNewCounting(t, 8)
	assert.True(t, mbClosed(m.Pause()), "no worker: Pause is done at once")
	m.Resume()
	for _, c := range []string{"a", "b", "c"} {
		require.NoError(t, m.Push(ctx, mbEnv(c, 0), false, nil))
	}
	require.Equal(t, int32(1), starts.Load())
	stop := m.Stopping()
	taken := m.Take(make([]*store.Envelope, 2))
	assert.Equal(t, 3, m.Load(), "queued plus in flight")
	assert.Equal(t, 1, m.Depth())

	exited := m.Pause()
	assert.True(t, mbClosed(stop), "the running worker is asked to stop")
	assert.False(t, mbClosed(exited), "Pause's channel waits for the worker")
	require.NoError(t, m.Push(ctx, mbEnv("d", 0), false, nil))
	assert.Equal(t, int32(1), starts.Load(), "no worker starts while paused")

	m.Done(1) // "a" handled; "b" goes back
	mbRelease(t, m, taken[1:])
	assert.Equal(t, 3, m.Load())
	m.Exit()
	assert.True(t, mbClosed(exited))
	assert.Equal(t, int32(1), starts.Load(), "paused: Exit starts no successor")

	m.Resume()
	assert.Equal(t, int32(2), starts.Load())
	assert.Equal(t, []string{"b", "c", "d"}, mbTake(m, 8))

	// Exit with work left on an unpaused box hands over to a new worker.
	require.NoError(t, m.Push(ctx, mbEnv("e", 0), false, nil))
	m.Exit()
	assert.Equal(t, int32(3), starts.Load())
	// Idle on a paused box retires even with work queued.
	m.Pause()
	assert.True(t, m.Idle())
}

func TestCloseStopsWorkers(t *testing.T) {
	ctx := context.Background()
	m, starts := mbNewCounting(t, 8)
	m.Resume()
	require.NoError(t, m.Push(ctx, mbEnv("a", 0), false, nil))
	stop := m.Stopping()
	assert.Equal(t, []string{"a"}, mbContents(m.Close()))
	assert.True(t, mbClosed(stop), "Close tells the worker to stop")
	m.Exit()
	m.Resume()
	assert.ErrorIs(t, m.PushForce(mbEnv("b", 0)), mailbox.ErrClosed)
	assert.Equal(t, int32(1), starts.Load(), "no worker starts after Close")
}

func TestTakeReturnsPriorityOrder(t *testing.T) {
	ctx := context.Background()
	m := mbNew(t, 10)
	for _, e := range []store.Envelope{
		mbEnv("low1", acl.PriorityLow), mbEnv("normal1", acl.PriorityNormal), mbEnv("high1", acl.PriorityHigh),
		mbEnv("normal2", acl.PriorityNormal), mbEnv("low2", acl.PriorityLow), mbEnv("high2", acl.PriorityHigh),
	} {
		require.NoError(t, m.Push(ctx, e, false, nil))
	}
	assert.Equal(t, []string{"high1", "high2", "normal1"}, mbTake(m, 3))
	assert.Equal(t, []string{"normal2", "low1", "low2"}, mbTake(m, 3))
}

func TestReleasePutsBackAtFrontInOrder(t *testing.T) {
	ctx := context.Background()
	m := mbNew(t, 4)
	for i := range 4 {
		require.NoError(t, m.Push(ctx, mbEnv(strconv.Itoa(i), 0), false, nil))
	}
	taken := m.Take(make([]*store.Envelope, 2))
	assert.Equal(t, []string{"0", "1"}, mbContents(taken))
	assert.Equal(t, 2, m.Depth())
	assert.Equal(t, 4, m.Load())
	require.NoError(t, m.Push(ctx, mbEnv("4", 0), false, nil))
	mbRelease(t, m, taken)
	assert.Equal(t, 5, m.Depth())
	assert.Equal(t, 5, m.Load(), "released envelopes are no longer in flight")
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, mbTake(m, 10))

	// A released high-priority envelope goes to the front of its lane.
	require.NoError(t, m.Push(ctx, mbEnv("h1", acl.PriorityHigh), false, nil))
	require.NoError(t, m.Push(ctx, mbEnv("n1", 0), false, nil))
	h := m.Take(make([]*store.Envelope, 1))
	require.NoError(t, m.Push(ctx, mbEnv("h2", acl.PriorityHigh), false, nil))
	mbRelease(t, m, h)
	assert.Equal(t, []string{"h1", "h2", "n1"}, mbTake(m, 10))
}

func TestPushForceIgnoresCapacity(t *testing.T) {
	ctx := context.Background()
	m := mbNew(t, 1)
	require.NoError(t, m.Push(ctx, mbEnv("a", 0), false, nil))
	require.NoError(t, m.PushForce(mbEnv("notice", acl.PriorityHigh)))
	require.NoError(t, m.PushForce(mbEnv("b", 0)))
	assert.Equal(t, 3, m.Depth())
	assert.ErrorIs(t, m.Push(ctx, mbEnv("c", 0), false, nil), mailbox.ErrFull)
	assert.Equal(t, []string{"notice", "a", "b"}, mbTake(m, 10))
}

func TestAckAndRetryPassThrough(t *testing.T) {
	ctx := context.Background()
	m := mbNew(t, 2)
	require.NoError(t, m.Push(ctx, mbEnv("a", 0), false, nil))
	e := m.Take(make([]*store.Envelope, 1))[0]
	e.Attempts++
	require.NoError(t, m.Retry(e))
	require.NoError(t, m.Ack(e))
	require.NoError(t, m.Ack())
	assert.Equal(t, 1, m.Load(), "in flight until Done")
	m.Done(1)
	assert.Equal(t, 0, m.Load())
	assert.Equal(t, 0, m.Depth())
	assert.Equal(t, uint64(1), e.Seq)
}

func TestReleaseAfterCloseIsRefused(t *testing.T) {
	ctx := context.Background()
	m := mbNew(t, 2)
	require.NoError(t, m.Push(ctx, mbEnv("in flight", 0), false, nil))
	taken := m.Take(make([]*store.Envelope, 1))
	assert.Empty(t, m.Close())
	refused, err := m.Release(taken)
	assert.ErrorIs(t, err, mailbox.ErrClosed, "the caller must learn the envelopes were not put back")
	assert.Equal(t, taken, refused, "and which ones")
	assert.Equal(t, 0, m.Depth())
}

func mbRelease(t *testing.T, m *mailbox.Mailbox, es []*store.Envelope) {
	t.Helper()
	refused, err := m.Release(es)
	require.NoError(t, err)
	require.Empty(t, refused)
}

// A queue that reopens with a backlog (a durable store after a restart)
// counts it: Depth and Load start from what is queued, and taking the
// backlog brings them to zero, not below.
func TestNewCountsTheQueueBacklog(t *testing.T) {
	q, err := store.NewMemory().OpenQueue("backlog")
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		require.NoError(t, q.Push(&store.Envelope{Msg: &acl.Message{Performative: acl.Inform}}))
	}
	m := mailbox.New(q, 10, func() {})
	assert.Equal(t, 3, m.Depth())
	assert.Equal(t, 3, m.Load())
	got := m.Take(make([]*store.Envelope, 10))
	require.Len(t, got, 3)
	assert.Equal(t, 0, m.Depth())
	m.Done(3)
	assert.Equal(t, 0, m.Load())
}

// lentTo returns two running mailboxes and a goroutine's spare channel,
// lent to a's worker, which has a message in hand.
func lentTo(t *testing.T) (a, b *mailbox.Mailbox, spare chan struct{}) {
	t.Helper()
	a, _ = mbNewCounting(t, 4)
	b, _ = mbNewCounting(t, 4)
	a.Resume()
	b.Resume()
	spare = make(chan struct{})
	require.NoError(t, a.Push(context.Background(), mbEnv("x", 0), false, nil))
	require.Equal(t, (<-chan struct{})(spare), a.Lend(spare), "the worker's channel becomes the mailbox's")
	return a, b, spare
}

// A pooled goroutine lends its own stop channel to each mailbox it works
// for: the mailbox uses it, forgets it when the worker returns for good (so
// the goroutine may lend it to the next mailbox), and a Pause closes it.
func TestWorkersLendTheirStopChannel(t *testing.T) {
	ctx := context.Background()
	a, b, spare := lentTo(t)
	assert.Equal(t, (<-chan struct{})(spare), a.Stopping(), "and stays until the worker returns")
	a.Done(len(a.Take(make([]*store.Envelope, 4))))
	require.True(t, a.Idle(), "empty: the worker retires")

	require.NoError(t, b.Push(ctx, mbEnv("y", 0), false, nil))
	assert.Equal(t, (<-chan struct{})(spare), b.Lend(spare), "the same goroutine lends it to its next mailbox")
	a.Pause()
	assert.False(t, mbClosed(spare), "a mailbox the worker left no longer holds the channel")
	require.NoError(t, a.Push(ctx, mbEnv("z", 0), false, nil))
	other := make(chan struct{})
	a.Resume()
	assert.Equal(t, (<-chan struct{})(other), a.Lend(other), "a new worker of a brings its own")

	b.Pause()
	assert.True(t, mbClosed(spare), "Pause closes the lent channel: the goroutine must replace it")
	assert.False(t, mbClosed(other))
}

// A worker that leaves by Exit (its agent failed, say) with its channel
// still open takes it along too.
func TestExitForgetsTheLentStopChannel(t *testing.T) {
	ctx := context.Background()
	a, b, spare := lentTo(t)
	a.Exit()
	require.NoError(t, b.Push(ctx, mbEnv("y", 0), false, nil))
	require.Equal(t, (<-chan struct{})(spare), b.Lend(spare))
	a.Pause()
	assert.False(t, mbClosed(spare), "a mailbox the worker left by Exit no longer holds the channel")
	b.Pause()
	assert.True(t, mbClosed(spare))
}
