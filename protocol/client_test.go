//go:build !wasip1

// The runtime (wasmtime, cgo) does not build for wasip1: tests against it
// run on the host only.

package protocol_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/clock"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientRoutesManyConcurrentConversationsOnOneInbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.spawn("echo", protocol.RequestResponder{Agree: true, Do: func(_ context.Context, m *acl.Message) ([]byte, error) {
		return append([]byte("echo:"), m.Content...), nil
	}})
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := acl.New(0, "echo")
			m.Content = fmt.Appendf(nil, "%d", i)
			ans, err := e.c.Request(e.ctx, m)
			switch {
			case err != nil:
				errs <- err
			case string(ans.Result.Content) != fmt.Sprintf("echo:%d", i):
				errs <- fmt.Errorf("conversation %d got %q", i, ans.Result.Content)
			case ans.Agree == nil || ans.Agree.ConversationID != m.ConversationID || len(ans.Violations) > 0:
				errs <- fmt.Errorf("conversation %d: agree %v, violations %v", i, ans.Agree, ans.Violations)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestConversationReceivesAnswerWithForeignConversationIDByInReplyTo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.peer("elsewhere", func(in *acl.Message) []*acl.Message {
		r := reply(in, acl.Inform, "routed")
		r.ConversationID = "another-conversation"
		return msgs(r)
	})
	cv, err := e.c.Open("")
	require.NoError(t, err)
	defer cv.End()
	out := acl.New(acl.Request, "elsewhere")
	require.NoError(t, cv.Send(e.ctx, out))
	assert.Equal(t, cv.ID(), out.ConversationID, "Send sets the conversation-id")
	assert.NotEmpty(t, out.ReplyWith, "Send sets a reply-with so answers can be routed")

	got, err := cv.Receive(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, "routed", string(got.Content))
	assert.Equal(t, "another-conversation", got.ConversationID)
	assert.Equal(t, out.ReplyWith, got.InReplyTo)
}

func TestClientAnswersUnknownConversationsButNeverNotUnderstoodOrFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mallory := e.inbox("mallory")
	send := func(p acl.Performative, conv string) *acl.Message {
		m := acl.New(p, "initiator")
		m.ConversationID, m.ReplyWith = conv, conv+".rw"
		require.NoError(t, mallory.Send(e.ctx, m))
		return m
	}
	stray := send(acl.Inform, "nobody-knows")
	nu := await(t, mallory)
	assert.Equal(t, acl.NotUnderstood, nu.Performative)
	assert.Equal(t, stray.ReplyWith, nu.InReplyTo)
	assert.Equal(t, "nobody-knows", nu.ConversationID)
	assert.Contains(t, string(nu.Content), "no open conversation")

	// Neither a not-understood nor a failure is answered (no loops). The
	// client handles its inbox in order, so the probe's answer comes first
	// only if the two before it were not answered.
	send(acl.NotUnderstood, "c1")
	send(acl.Failure, "c2")
	probe := send(acl.Inform, "c3")
	got := await(t, mallory)
	assert.Equal(t, probe.ReplyWith, got.InReplyTo)
	assert.Zero(t, mallory.Len())
}

func TestWithUnhandledReplacesTheDefault(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ib, err := rt.NewInbox("initiator")
	require.NoError(t, err)
	seen := make(chan *acl.Message, 1)
	c := protocol.NewClient(ib, protocol.WithClock(rt.Clock), protocol.WithUnhandled(func(_ context.Context, m *acl.Message) { seen <- m }))
	defer c.Close()
	m := acl.New(acl.Inform, "initiator")
	m.ConversationID = "stray"
	rt.MustSend(m)
	assert.Equal(t, "stray", recv(t, seen).ConversationID)
}

func TestEndWithHandlesStragglersAndWhatWasStillWaiting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mallory := e.inbox("mallory")
	cv, err := e.c.Open("round-1")
	require.NoError(t, err)
	send := func(content string) {
		m := acl.New(acl.Propose, "initiator")
		m.ConversationID, m.Content = "round-1", []byte(content)
		require.NoError(t, mallory.Send(e.ctx, m))
	}
	send("waiting")
	caxtontest.Eventually(t, func() bool { return cv.Pending() == 1 }, "the proposal to wait in the conversation")

	after := make(chan string, 2)
	cv.EndWith(func(_ context.Context, m *acl.Message) { after <- string(m.Content) })
	assert.Equal(t, "waiting", recv(t, after), "what was still waiting goes to the after-end handler")
	send("late")
	assert.Equal(t, "late", recv(t, after))
	assert.Zero(t, mallory.Len(), "the after-end handler answers, not the client")
	assert.ErrorIs(t, cv.Send(e.ctx, acl.New(acl.Inform, "mallory")), protocol.ErrClosed, "an ended conversation sends nothing")
	cv.EndWith(func(context.Context, *acl.Message) { t.Error("a second End must not replace the handler") })
	send("later")
	assert.Equal(t, "later", recv(t, after))
}

func TestEndWithoutHandlerTreatsTheConversationAsUnknown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mallory := e.inbox("mallory")
	cv, err := e.c.Open("short")
	require.NoError(t, err)
	cv.End()
	m := acl.New(acl.Inform, "initiator")
	m.ConversationID = "short"
	require.NoError(t, mallory.Send(e.ctx, m))
	nu := await(t, mallory)
	assert.Equal(t, acl.NotUnderstood, nu.Performative)
	assert.Contains(t, string(nu.Content), "no open conversation")
}

func TestWithRetentionEvictsTheOldestAfterHandler(t *testing.T) {
	t.Parallel()
	e := newEnv(t, protocol.WithRetention(2))
	mallory := e.inbox("mallory")
	handled := make(chan string, 4)
	end := func(id string) {
		cv, err := e.c.Open(id)
		require.NoError(t, err)
		cv.EndWith(func(context.Context, *acl.Message) { handled <- id })
	}
	end("a")
	end("b")
	end("a") // reopened and ended again: now the most recent but one
	end("c") // evicts b, the oldest, and not a
	send := func(conv string) {
		m := acl.New(acl.Inform, "initiator")
		m.ConversationID = conv
		require.NoError(t, mallory.Send(e.ctx, m))
	}
	send("a")
	assert.Equal(t, "a", recv(t, handled))
	send("c")
	assert.Equal(t, "c", recv(t, handled))
	send("b")
	nu := await(t, mallory)
	assert.Equal(t, acl.NotUnderstood, nu.Performative, "an evicted conversation counts as unknown")
	assert.Equal(t, "b", nu.ConversationID)
	assert.Empty(t, handled)
}

func TestWithRetentionZeroKeepsNoAfterHandler(t *testing.T) {
	t.Parallel()
	e := newEnv(t, protocol.WithRetention(0))
	mallory := e.inbox("mallory")
	cv, err := e.c.Open("gone")
	require.NoError(t, err)
	cv.EndWith(func(context.Context, *acl.Message) { t.Error("retention 0 keeps no handler") })
	m := acl.New(acl.Inform, "initiator")
	m.ConversationID = "gone"
	require.NoError(t, mallory.Send(e.ctx, m))
	assert.Equal(t, acl.NotUnderstood, await(t, mallory).Performative)
}

func TestConversationBufferFullAnswersFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, protocol.WithConversationBuffer(1))
	mallory := e.inbox("mallory")
	cv, err := e.c.Open("busy")
	require.NoError(t, err)
	defer cv.End()
	var sent []*acl.Message
	for i := range 2 {
		m := acl.New(acl.Inform, "initiator")
		m.ConversationID, m.ReplyWith = "busy", fmt.Sprint("m", i)
		require.NoError(t, mallory.Send(e.ctx, m))
		sent = append(sent, m)
	}
	f := await(t, mallory)
	assert.Equal(t, acl.Failure, f.Performative)
	assert.Equal(t, sent[1].ReplyWith, f.InReplyTo, "the message beyond the buffer is refused")
	assert.Contains(t, string(f.Content), "buffer is full")
	assert.Equal(t, 1, cv.Pending())
	got, ok := cv.TryReceive()
	require.True(t, ok)
	assert.Equal(t, sent[0].ReplyWith, got.ReplyWith)
	_, ok = cv.TryReceive()
	assert.False(t, ok)
}

func TestCloseFailsWaitersWithErrClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cv, err := e.c.Open("")
	require.NoError(t, err)
	waiting := result(func() error { _, err := cv.Receive(e.ctx); return err })
	require.NoError(t, e.c.Close())
	assert.ErrorIs(t, recv(t, waiting), protocol.ErrClosed)
	_, err = e.c.Open("")
	assert.ErrorIs(t, err, protocol.ErrClosed)
	_, err = e.c.Request(e.ctx, acl.New(0, "anyone"))
	assert.ErrorIs(t, err, protocol.ErrClosed)
	require.NoError(t, e.c.Close(), "Close twice is harmless")
}

func TestClosingTheEndpointStopsTheClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cv, err := e.c.Open("")
	require.NoError(t, err)
	waiting := result(func() error { _, err := cv.Receive(e.ctx); return err })
	require.NoError(t, e.ib.Close())
	err = recv(t, waiting)
	assert.ErrorIs(t, err, protocol.ErrClosed)
	assert.ErrorIs(t, err, caxton.ErrClosed, "the endpoint's error is kept")
}

func TestOpenAndSendCheckTheirInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	assert.Equal(t, acl.AgentID("initiator"), e.c.Name())
	assert.Equal(t, e.rt.Clock.Now(), e.c.Clock().Now())
	cv, err := e.c.Open("dup")
	require.NoError(t, err)
	assert.Same(t, e.c, cv.Client())
	_, err = e.c.Open("dup")
	assert.Equal(t, "conversation_id", fieldOf(err))

	m := acl.New(acl.Inform, "x")
	m.ConversationID = "other"
	assert.Equal(t, "conversation_id", fieldOf(cv.Send(e.ctx, m)))
	assert.Error(t, cv.Send(e.ctx, nil))
	cv.End()
	cv2, err := e.c.Open("dup")
	require.NoError(t, err, "an ended id can be opened again")
	cv2.End()

	a, err := e.c.Open("")
	require.NoError(t, err)
	b, err := e.c.Open("")
	require.NoError(t, err)
	assert.NotEqual(t, a.ID(), b.ID(), "fresh ids are unique")
	a.End()
	b.End()
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	never, release := e.c.Deadline(time.Time{})
	release()
	assert.False(t, closed(never), "a zero time never passes")
	assert.Zero(t, e.rt.Clock.Pending(), "and needs no timer")

	past, release := e.c.Deadline(e.rt.Clock.Now())
	release()
	assert.True(t, closed(past), "a time already reached is closed at once")

	soon, release := e.c.Deadline(e.rt.Clock.Now().Add(time.Minute))
	defer release()
	require.Equal(t, 1, e.rt.Clock.Pending())
	assert.False(t, closed(soon))
	e.rt.Clock.Advance(59 * time.Second)
	assert.False(t, closed(soon))
	e.rt.Clock.Advance(time.Second)
	select {
	case <-soon:
	case <-time.After(caxtontest.DefaultTimeout):
		t.Fatal("the deadline did not pass with the clock")
	}

	later, release2 := e.c.Deadline(e.rt.Clock.Now().Add(time.Hour))
	release2()
	release2() // twice is harmless
	caxtontest.Eventually(t, func() bool { return e.rt.Clock.Pending() == 0 }, "release to stop the timer")
	e.rt.Clock.Advance(2 * time.Hour)
	assert.False(t, closed(later), "a released deadline never fires")
}

func TestReceiveBeforeReturnsWhatArrivedInTimeThenErrTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mallory := e.inbox("mallory")
	cv, err := e.c.Open("slow")
	require.NoError(t, err)
	defer cv.End()
	deadline, release := e.c.Deadline(e.rt.Clock.Now().Add(time.Second))
	defer release()

	waiting := result(func() error { _, err := cv.ReceiveBefore(e.ctx, deadline); return err })
	e.rt.AdvanceWhenWaiting(1, time.Second)
	assert.ErrorIs(t, recv(t, waiting), protocol.ErrTimeout)

	m := acl.New(acl.Inform, "initiator")
	m.ConversationID = "slow"
	require.NoError(t, mallory.Send(e.ctx, m))
	caxtontest.Eventually(t, func() bool { return cv.Pending() == 1 }, "the message to arrive")
	got, err := cv.ReceiveBefore(e.ctx, deadline)
	require.NoError(t, err, "a message that waits is returned even after the deadline")
	assert.Equal(t, m.ID, got.ID)
	_, err = cv.ReceiveBefore(e.ctx, deadline)
	assert.ErrorIs(t, err, protocol.ErrTimeout)

	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	_, err = cv.ReceiveBefore(ctx, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestClientLogsWhatItAnswersOnItsOwn(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ib, err := rt.NewInbox("initiator")
	require.NoError(t, err)
	var buf syncBuffer
	c := protocol.NewClient(ib, protocol.WithClock(rt.Clock), protocol.WithLogger(newTextLogger(&buf)))
	defer c.Close()
	m := acl.New(acl.Inform, "initiator")
	m.ConversationID = "stray"
	rt.MustSend(m)
	caxtontest.AwaitInbox(t, rt.Inbox(), acl.MatchPerformative(acl.NotUnderstood))
	assert.True(t, strings.Contains(buf.String(), "no open conversation"), buf.String())
	assert.Contains(t, buf.String(), "message_id="+m.ID.String())
	assert.Contains(t, buf.String(), "conversation_id=stray")

	// A nil logger is the default (silent), as in every Caxton package: the
	// same stray message is answered without a panic.
	ib2, err := rt.NewInbox("initiator-2")
	require.NoError(t, err)
	c2 := protocol.NewClient(ib2, protocol.WithClock(rt.Clock), protocol.WithLogger(nil))
	defer c2.Close()
	m2 := acl.New(acl.Inform, "initiator-2")
	m2.ConversationID = "stray"
	rt.MustSend(m2)
	caxtontest.AwaitInbox(t, rt.Inbox(), acl.MatchPerformative(acl.NotUnderstood))
}

// A client on a runtime's inbox measures deadlines on the runtime's clock
// without being told (forgetting WithClock used to put them on wall time
// under a fake clock); WithClock still overrides it.
func TestClientTakesTheEndpointsClock(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ib, err := rt.NewInbox("clocked")
	require.NoError(t, err)
	c := protocol.NewClient(ib)
	defer c.Close()
	assert.Same(t, rt.Clock, c.Clock())

	other := clock.NewFake(time.Unix(42, 0))
	ib2, err := rt.NewInbox("clocked-2")
	require.NoError(t, err)
	c2 := protocol.NewClient(ib2, protocol.WithClock(other))
	defer c2.Close()
	assert.Same(t, other, c2.Clock())
	c3 := protocol.NewClient(fixedEndpoint{}, protocol.WithClock(nil))
	defer c3.Close()
	assert.Equal(t, clock.Real(), c3.Clock(), "an endpoint without a clock: real time")
}

// fixedEndpoint is an Endpoint with no clock whose Receive waits for ctx.
type fixedEndpoint struct{}

func (fixedEndpoint) Name() acl.AgentID                        { return "fixed" }
func (fixedEndpoint) Send(context.Context, *acl.Message) error { return nil }
func (fixedEndpoint) Receive(ctx context.Context) (*acl.Message, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
