package caxton_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// batHandler is a BatchHandler that records its batches and emits what emit
// returns for each one.
type batHandler struct {
	mu       sync.Mutex
	batches  [][]string
	attempts []int
	single   atomic.Int32
	emit     func(b *caxton.Batch)
	fail     func(b *caxton.Batch) error
}

func (h *batHandler) HandleMessage(context.Context, *caxton.MessageContext) error {
	h.single.Add(1)
	return errors.New("HandleMessage called on a BatchHandler")
}

func (h *batHandler) HandleBatch(_ context.Context, b *caxton.Batch) error {
	h.mu.Lock()
	h.batches = append(h.batches, lcContents(b.Messages))
	h.attempts = append(h.attempts, b.Attempt)
	h.mu.Unlock()
	if h.emit != nil {
		h.emit(b)
	}
	if h.fail != nil {
		return h.fail(b)
	}
	return nil
}

func (h *batHandler) seen() ([][]string, []int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]string(nil), h.batches...), append([]int(nil), h.attempts...)
}

// batQueue stops name, queues the contents and starts it again, so the
// worker finds them all waiting at once.
func batQueue(t *testing.T, rt *caxtontest.Runtime, name acl.AgentID, contents ...string) {
	t.Helper()
	ctx := caxtontest.Context(t)
	require.NoError(t, rt.Stop(ctx, name))
	for _, c := range contents {
		rt.MustSend(lcMsg(name, c))
	}
	require.NoError(t, rt.Start(ctx, name))
}

var batFive = []string{"m0", "m1", "m2", "m3", "m4"}

func TestBatchHandlerGetsQueuedMessagesTogether(t *testing.T) {
	t.Parallel()
	tests := []struct {
		batchSize int
		want      [][]string
	}{
		{0, [][]string{batFive}}, // default 64
		{5, [][]string{batFive}},
		{8, [][]string{batFive}},
		{2, [][]string{{"m0", "m1"}, {"m2", "m3"}, {"m4"}}},
		{1, [][]string{{"m0"}, {"m1"}, {"m2"}, {"m3"}, {"m4"}}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("size ", tc.batchSize), func(t *testing.T) {
			t.Parallel()
			rt := caxtontest.NewRuntime(t)
			h := &batHandler{}
			rt.MustSpawn(caxton.AgentSpec{Name: "bat-agent", BatchSize: tc.batchSize, Handler: h})
			batQueue(t, rt, "bat-agent", batFive...)
			caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "bat-agent").Processed == 5 }, "5 processed")
			batches, attempts := h.seen()
			assert.Equal(t, tc.want, batches)
			for _, a := range attempts {
				assert.Equal(t, 1, a)
			}
			assert.Equal(t, int32(0), h.single.Load())
			info := lcInfo(t, rt, "bat-agent")
			assert.Equal(t, uint64(0), info.Failed)
			assert.Equal(t, 0, info.QueueDepth)
		})
	}
}

func TestBatchOutboxIsSentAfterSuccessWithAgentAsSender(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	sink, err := rt.NewInbox("bat-sink")
	require.NoError(t, err)
	var heldBack atomic.Bool
	heldBack.Store(true)
	h := &batHandler{emit: func(b *caxton.Batch) {
		for i, m := range b.Messages {
			b.Emit(lcMsg("bat-sink", "out:"+string(m.Content)))
			if i == 0 {
				forged := lcMsg("bat-sink", "forged")
				forged.Sender = "someone-else"
				b.Emit(forged)
				own := lcMsg("bat-sink", "self")
				own.Sender = "bat-emitter"
				b.Emit(own)
				b.Emit(nil)
			}
		}
		if sink.Len() != 0 {
			heldBack.Store(false)
		}
		assert.Len(t, b.Outbox(), len(b.Messages)+3)
	}}
	rt.MustSpawn(caxton.AgentSpec{Name: "bat-emitter", Handler: h})
	batQueue(t, rt, "bat-emitter", "m0", "m1", "m2")

	var got []*acl.Message
	for range 4 {
		got = append(got, caxtontest.AwaitInbox(t, sink, nil))
	}
	assert.Equal(t, []string{"out:m0", "self", "out:m1", "out:m2"}, lcContents(got))
	for _, m := range got {
		assert.Equal(t, acl.AgentID("bat-emitter"), m.Sender)
		assert.NotEmpty(t, m.ID)
		assert.Equal(t, rt.Clock.Now(), m.CreatedAt)
	}
	assert.Equal(t, 0, sink.Len(), "the forged message was not delivered")
	assert.True(t, heldBack.Load(), "nothing was sent while HandleBatch ran")
	batches, _ := h.seen()
	assert.Equal(t, [][]string{{"m0", "m1", "m2"}}, batches)
}

func TestFailedBatchEmitsNothingAndItsMessagesAreRetriedAlone(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	sink, err := rt.NewInbox("bat-sink")
	require.NoError(t, err)
	h := &batHandler{
		emit: func(b *caxton.Batch) {
			for _, m := range b.Messages {
				b.Emit(lcMsg("bat-sink", fmt.Sprintf("a%d:%s", b.Attempt, m.Content)))
			}
		},
		fail: func(b *caxton.Batch) error {
			if b.Attempt == 1 {
				return errors.New("guest busy")
			}
			return nil
		},
	}
	rt.MustSpawn(caxton.AgentSpec{Name: "bat-retry", Handler: h})
	batQueue(t, rt, "bat-retry", "m0", "m1", "m2")

	// The batch fails; which message failed it cannot be told, so each is
	// tried alone, in order (and here each fails its first try alone too).
	require.NoError(t, rt.Clock.BlockUntil(ctx, 1), "m0 waits in backoff")
	assert.Equal(t, 0, sink.Len(), "the failed attempts' outboxes were discarded")
	info := lcInfo(t, rt, "bat-retry")
	assert.Equal(t, uint64(2), info.Failed, "the batch, then m0 alone")
	assert.Equal(t, uint64(1), info.Retried)
	assert.Equal(t, uint64(0), info.Processed)
	assert.Equal(t, "guest busy", info.LastError)

	var got []*acl.Message
	for range 3 {
		rt.AdvanceWhenWaiting(1, supStep)
		got = append(got, caxtontest.AwaitInbox(t, sink, nil))
	}
	assert.Equal(t, []string{"a2:m0", "a2:m1", "a2:m2"}, lcContents(got))
	batches, attempts := h.seen()
	assert.Equal(t, [][]string{{"m0", "m1", "m2"}, {"m0"}, {"m0"}, {"m1"}, {"m1"}, {"m2"}, {"m2"}}, batches)
	assert.Equal(t, []int{1, 1, 2, 1, 2, 1, 2}, attempts, "the failed batch attempt is not counted against the messages")
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "bat-retry").Processed == 3 }, "3 processed")
	assert.Equal(t, 0, sink.Len())
	dls, err := rt.DeadLetters(context.Background())
	require.NoError(t, err)
	assert.Empty(t, dls)
}

func TestBatchThatKeepsFailingIsDeadLetteredMessageByMessage(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	sink, err := rt.NewInbox("bat-sink")
	require.NoError(t, err)
	h := &batHandler{
		emit: func(b *caxton.Batch) { b.Emit(lcMsg("bat-sink", "never")) },
		fail: func(*caxton.Batch) error { return errors.New("still broken") },
	}
	rt.MustSpawn(caxton.AgentSpec{Name: "bat-dead", Handler: h, Delivery: caxton.DeliveryPolicy{MaxAttempts: 2}})
	batQueue(t, rt, "bat-dead", "m0", "m1")
	rt.AdvanceWhenWaiting(1, supStep) // m0's retry
	rt.AdvanceWhenWaiting(1, supStep) // m1's retry
	dls := rt.AwaitDeadLetters(2)
	require.Len(t, dls, 2)
	for i, d := range dls {
		assert.Equal(t, fmt.Sprint("m", i), string(d.Message.Content))
		assert.Equal(t, "max attempts", d.Reason)
		assert.Equal(t, 2, d.Attempts)
		assert.Equal(t, "still broken", d.LastError)
	}
	assert.Equal(t, 0, sink.Len())
	batches, attempts := h.seen()
	assert.Equal(t, [][]string{{"m0", "m1"}, {"m0"}, {"m0"}, {"m1"}, {"m1"}}, batches)
	assert.Equal(t, []int{1, 1, 2, 1, 2}, attempts)
	info := lcInfo(t, rt, "bat-dead")
	assert.Equal(t, uint64(2), info.DeadLettered)
	assert.Equal(t, uint64(0), info.Processed)
}

// Agents do not choose their messages' ids or creation times, on any path:
// the runtime assigns them when it routes (a native handler's Send here; the
// batch outbox above).
func TestAgentsCannotChooseIDsOrCreationTimes(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	sink, err := rt.NewInbox("stamp-sink")
	require.NoError(t, err)
	var reused acl.MessageID
	rt.MustSpawn(caxton.AgentSpec{Name: "stamp-agent", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		m := lcMsg("stamp-sink", "out")
		m.ID, m.CreatedAt = mc.Message().ID, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // reuse an id, back-date
		reused = m.ID
		return mc.Send(ctx, m)
	})})
	rt.MustSend(lcMsg("stamp-agent", "in"))
	got := caxtontest.AwaitInbox(t, sink, nil)
	assert.NotEqual(t, reused, got.ID, "the runtime assigned a fresh id")
	assert.Equal(t, rt.Clock.Now(), got.CreatedAt, "the runtime stamped the creation time")
	assert.Equal(t, acl.AgentID("stamp-agent"), got.Sender)

	err = rt.Inbox().Send(caxtontest.Context(t), &acl.Message{Performative: acl.Inform, Sender: "stamp-agent", Receivers: []acl.AgentID{"stamp-sink"}})
	require.ErrorIs(t, err, caxton.ErrForgedSender, "an inbox cannot send as an agent")
}
