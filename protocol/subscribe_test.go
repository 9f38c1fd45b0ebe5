//go:build !wasip1

// The runtime (wasmtime, cgo) does not build for wasip1: tests against it
// run on the host only.

package protocol_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostSend publishes from the host on behalf of agent as.
func hostSend(rt *caxtontest.Runtime, as acl.AgentID) func(context.Context, *acl.Message) error {
	return func(ctx context.Context, m *acl.Message) error {
		m.Sender = as
		return rt.Send(ctx, m)
	}
}

// subscribed subscribes to a SubscribeResponder. Once Subscribe returns,
// the responder has recorded the subscriber: a Publish reaches it.
func subscribed(t *testing.T, e *env, to acl.AgentID, sr *protocol.SubscribeResponder) *protocol.Subscription {
	t.Helper()
	before := sr.Subscribers()
	m := acl.New(0, to)
	m.Content = []byte("prices(A-1)")
	sub, err := e.c.Subscribe(e.ctx, m)
	require.NoError(t, err)
	require.Equal(t, before+1, sr.Subscribers(), "recorded by the time the agree arrived")
	return sub
}

func TestSubscribePublishNextCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sr := &protocol.SubscribeResponder{}
	e.spawn("news", sr)
	sub := subscribed(t, e, "news", sr)
	require.NotNil(t, sub.Agree())
	assert.Equal(t, sub.ID(), sub.Agree().ConversationID)

	for _, s := range []string{"12.5", "12.7", "13.0"} {
		require.NoError(t, sr.Publish(e.ctx, hostSend(e.rt, "news"), []byte(s)))
	}
	for i, want := range []string{"12.5", "12.7", "13.0"} {
		m, err := sub.Next(e.ctx)
		require.NoError(t, err)
		assert.Equal(t, want, string(m.Content))
		assert.Equal(t, acl.Inform, m.Performative)
		seq, _ := m.Param(protocol.SeqParam)
		assert.Equal(t, strconv.Itoa(i+1), seq)
		assert.Equal(t, sub.ID(), m.ConversationID)
		assert.Equal(t, protocol.FIPASubscribe, m.Protocol)
	}
	require.NoError(t, sub.Cancel(e.ctx))
	assert.Zero(t, sr.Subscribers(), "the responder removed it before confirming")
	_, err := sub.Next(e.ctx)
	assert.ErrorIs(t, err, protocol.ErrCancelled)
	assert.NoError(t, sub.Cancel(e.ctx), "cancelling twice reports the first outcome")
	assert.Empty(t, sub.Violations())
}

func TestPublishFromInsideTheAgentsHandler(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sr := &protocol.SubscribeResponder{}
	e.spawn("news", protocol.Mux{
		protocol.FIPASubscribe: sr,
		"ticker": protocol.ResponderFunc(func(ctx context.Context, m *acl.Message, c protocol.Conn) error {
			return sr.Publish(ctx, c.Send, m.Content)
		}),
	})
	sub := subscribed(t, e, "news", sr)
	tick := acl.New(acl.Inform, "news")
	tick.Protocol, tick.Content = "ticker", []byte("tick")
	e.rt.MustSend(tick)
	m, err := sub.Next(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, "tick", string(m.Content))
	assert.Equal(t, acl.AgentID("news"), m.Sender)
	require.NoError(t, sub.Cancel(e.ctx))
}

func TestSubscribeNotAccepted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		sentinel error
	}{
		{"refused", protocol.Refuse("full"), protocol.ErrRefused},
		{"not understood", protocol.NotUnderstood("which prices?"), protocol.ErrNotUnderstood},
		{"failure", errNope, protocol.ErrFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			sr := &protocol.SubscribeResponder{Accept: func(context.Context, *acl.Message) error { return tc.err }}
			e.spawn("news", sr)
			sub, err := e.c.Subscribe(e.ctx, acl.New(0, "news"))
			require.ErrorIs(t, err, tc.sentinel)
			require.NotNil(t, sub, "a subscription that never started is still returned")
			assert.Nil(t, sub.Agree())
			_, nextErr := sub.Next(e.ctx)
			assert.ErrorIs(t, nextErr, tc.sentinel)
			assert.NoError(t, sub.Cancel(e.ctx), "nothing to cancel")
			assert.Zero(t, sr.Subscribers())
		})
	}
}

func TestSubscribeTimesOutAndCancelsALateAgree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.peer("news", nil)
	m := acl.New(0, "news")
	m.ReplyBy = e.rt.Clock.Now().Add(5 * time.Second)
	type subOf struct {
		sub *protocol.Subscription
		err error
	}
	done := result(func() subOf { s, err := e.c.Subscribe(e.ctx, m); return subOf{s, err} })
	req := p.next(t)
	e.rt.AdvanceWhenWaiting(1, 5*time.Second)
	got := recv(t, done)
	require.ErrorIs(t, got.err, protocol.ErrTimeout)
	_, err := got.sub.Next(e.ctx)
	assert.ErrorIs(t, err, protocol.ErrTimeout)

	late := reply(req, acl.Agree, "")
	late.Sender = "news"
	e.rt.MustSend(late)
	cancel := p.next(t)
	assert.Equal(t, acl.Cancel, cancel.Performative, "an agree after Subscribe gave up is cancelled")
	assert.Equal(t, req.ConversationID, cancel.ConversationID)
	assert.Equal(t, protocol.FIPASubscribe, cancel.Protocol)

	// The cancel's answer and informs that crossed it are expected: quiet.
	for _, q := range []*acl.Message{inform(req, "1", "x"), reply(cancel, acl.Inform, "")} {
		q.Sender = "news"
		e.rt.MustSend(q)
	}
	probe := reply(req, acl.Propose, "")
	probe.Sender = "news"
	e.rt.MustSend(probe)
	nu := p.next(t)
	assert.Equal(t, acl.NotUnderstood, nu.Performative)
	assert.Equal(t, probe.ReplyWith, nu.InReplyTo, "only the odd message was answered")
}

func TestSubscriptionEndsWithTheRespondersFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sr := &protocol.SubscribeResponder{}
	e.spawn("news", sr)
	sub := subscribed(t, e, "news", sr)
	send := hostSend(e.rt, "news")
	require.NoError(t, sr.Publish(e.ctx, send, []byte("one")))
	require.NoError(t, sr.Publish(e.ctx, send, []byte("two")))
	require.NoError(t, sr.Close(e.ctx, send, "shutting down"))
	assert.Zero(t, sr.Subscribers())

	for _, want := range []string{"one", "two"} {
		m, err := sub.Next(e.ctx)
		require.NoError(t, err, "informs before the failure are still delivered")
		assert.Equal(t, want, string(m.Content))
	}
	for range 2 {
		_, err := sub.Next(e.ctx)
		require.ErrorIs(t, err, protocol.ErrFailure)
		var re *protocol.ReplyError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "shutting down", re.Reason)
	}
	assert.NoError(t, sub.Cancel(e.ctx), "nothing left to cancel")

	_, err := e.c.Subscribe(e.ctx, acl.New(0, "news"))
	assert.ErrorIs(t, err, protocol.ErrRefused, "a closed responder refuses new subscriptions")
}

func TestSubscriptionChecksTheSequence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.peer("news", func(in *acl.Message) []*acl.Message {
		switch in.Performative {
		case acl.Subscribe:
			return msgs(reply(in, acl.Agree, ""),
				inform(in, "1", "a"), inform(in, "3", "c"), inform(in, "3", "c again"),
				inform(in, "", "unnumbered"), inform(in, "x", "garbled"), inform(in, "0", "zero"),
				inform(in, "4", "d"))
		case acl.Cancel:
			return msgs(reply(in, acl.Inform, ""))
		}
		return nil
	})
	sub, err := e.c.Subscribe(e.ctx, acl.New(0, "news"))
	require.NoError(t, err)
	var got []string
	for range 3 {
		m, err := sub.Next(e.ctx)
		require.NoError(t, err)
		got = append(got, string(m.Content))
	}
	assert.Equal(t, []string{"a", "c", "d"}, got, "a gap's inform is returned; repeats and unnumbered ones are not")
	var reasons []string
	for _, v := range sub.Violations() {
		reasons = append(reasons, v.Reason)
	}
	assert.Equal(t, []string{
		"X-Seq 3 where 2 was expected: 1 inform(s) missing",
		"X-Seq 3 repeats an inform already seen (4 was expected)",
		"inform without X-Seq",
		`garbled X-Seq "x"`,
		`garbled X-Seq "0"`,
	}, reasons)
	p.next(t) // the subscribe
	for _, v := range sub.Violations() {
		nu := p.next(t)
		assert.Equal(t, acl.NotUnderstood, nu.Performative)
		assert.Equal(t, v.Message.ReplyWith, nu.InReplyTo)
		assert.Equal(t, v.Reason, string(nu.Content))
	}
	require.NoError(t, sub.Cancel(e.ctx))
}

func TestSubscribeReportsAnInformBeforeTheAgree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.peer("news", func(in *acl.Message) []*acl.Message {
		if in.Performative != acl.Subscribe {
			return nil
		}
		return msgs(inform(in, "1", "early"), reply(in, acl.Agree, ""), inform(in, "1", "on time"))
	})
	sub, err := e.c.Subscribe(e.ctx, acl.New(0, "news"))
	require.NoError(t, err)
	m, err := sub.Next(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, "on time", string(m.Content))
	require.Len(t, sub.Violations(), 1)
	assert.Equal(t, "inform before agree", sub.Violations()[0].Reason)
}

func TestCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		onCancel   func(cancel, subscribe *acl.Message) []*acl.Message
		sentinel   error // Cancel's error
		violations []string
	}{
		{name: "answered with failure", sentinel: protocol.ErrFailure,
			onCancel: func(in, _ *acl.Message) []*acl.Message { return msgs(reply(in, acl.Failure, "no such subscription")) }},
		{name: "informs crossing the cancel are quiet",
			onCancel: func(in, sub *acl.Message) []*acl.Message {
				return msgs(inform(sub, "7", "crossing"), reply(in, acl.Inform, ""), inform(sub, "8", "after the end"))
			}},
		{name: "an agree does not answer a cancel", violations: []string{"agree does not answer a cancel"},
			onCancel: func(in, _ *acl.Message) []*acl.Message {
				return msgs(reply(in, acl.Agree, ""), reply(in, acl.Inform, ""))
			}},
		{name: "anything else is a violation", violations: []string{"a second agree"},
			onCancel: func(in, sub *acl.Message) []*acl.Message {
				return msgs(reply(sub, acl.Agree, ""), inform(sub, "1", "crossing"), reply(in, acl.Inform, ""))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			var subscribe *acl.Message
			p := e.peer("news", func(in *acl.Message) []*acl.Message {
				switch in.Performative {
				case acl.Subscribe:
					subscribe = in
					return msgs(reply(in, acl.Agree, ""))
				case acl.Cancel:
					return tc.onCancel(in, subscribe)
				}
				return nil
			})
			sub, err := e.c.Subscribe(e.ctx, acl.New(0, "news"))
			require.NoError(t, err)
			err = sub.Cancel(e.ctx)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			} else {
				assert.NoError(t, err)
			}
			var reasons []string
			for _, v := range sub.Violations() {
				reasons = append(reasons, v.Reason)
			}
			assert.Equal(t, tc.violations, reasons)
			_, err = sub.Next(e.ctx)
			assert.ErrorIs(t, err, protocol.ErrCancelled)

			// Only violations were answered: the next thing the peer hears
			// after them is the answer to an odd message sent now.
			assert.Equal(t, acl.Subscribe, p.next(t).Performative)
			assert.Equal(t, acl.Cancel, p.next(t).Performative)
			for range tc.violations {
				assert.Equal(t, acl.NotUnderstood, p.next(t).Performative)
			}
			probe := reply(subscribe, acl.Propose, "")
			probe.Sender = "news"
			e.rt.MustSend(probe)
			nu := p.next(t)
			assert.Equal(t, probe.ReplyWith, nu.InReplyTo)
			assert.Contains(t, string(nu.Content), "is over")
		})
	}
}

func TestCancelWhileNextWaits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sr := &protocol.SubscribeResponder{}
	e.spawn("news", sr)
	sub := subscribed(t, e, "news", sr)
	type msgOf struct {
		m   *acl.Message
		err error
	}
	waiting := result(func() msgOf { m, err := sub.Next(e.ctx); return msgOf{m, err} })
	require.NoError(t, sub.Cancel(e.ctx))
	assert.ErrorIs(t, recv(t, waiting).err, protocol.ErrCancelled)
	assert.Zero(t, sr.Subscribers())
}

func TestConcurrentNextsSeeEveryInformOnceAndInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sr := &protocol.SubscribeResponder{}
	e.spawn("news", sr)
	sub := subscribed(t, e, "news", sr)
	const n, readers = 100, 4
	var mu sync.Mutex
	var all []int
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for {
				m, err := sub.Next(e.ctx)
				if err != nil {
					assert.ErrorIs(t, err, protocol.ErrCancelled)
					return
				}
				seq, _ := strconv.Atoi(m.Params[protocol.SeqParam])
				assert.Greater(t, seq, last, "each reader sees the stream in order")
				last = seq
				mu.Lock()
				all = append(all, seq)
				done := len(all) == n
				mu.Unlock()
				if done {
					assert.NoError(t, sub.Cancel(e.ctx))
				}
			}
		}()
	}
	for i := range n {
		require.NoError(t, sr.Publish(e.ctx, hostSend(e.rt, "news"), fmt.Appendf(nil, "%d", i)))
	}
	wg.Wait()
	slices.Sort(all)
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	assert.Equal(t, want, all)
	assert.Empty(t, sub.Violations())
}

func TestNextHonoursContextAndTheSubscriptionGoesOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sr := &protocol.SubscribeResponder{}
	e.spawn("news", sr)
	sub := subscribed(t, e, "news", sr)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	_, err := sub.Next(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	require.NoError(t, sr.Publish(e.ctx, hostSend(e.rt, "news"), []byte("still here")))
	m, err := sub.Next(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, "still here", string(m.Content))

	// A Cancel whose ctx ends before the confirmation still ends it locally.
	p := e.peer("mute", func(in *acl.Message) []*acl.Message {
		if in.Performative == acl.Subscribe {
			return msgs(reply(in, acl.Agree, ""))
		}
		return nil
	})
	mute, err := e.c.Subscribe(e.ctx, acl.New(0, "mute"))
	require.NoError(t, err)
	cctx, ccancel := context.WithCancel(e.ctx)
	done := result(func() error { return mute.Cancel(cctx) })
	p.next(t)
	assert.Equal(t, acl.Cancel, p.next(t).Performative)
	ccancel()
	assert.ErrorIs(t, recv(t, done), context.Canceled)
	_, err = mute.Next(e.ctx)
	assert.ErrorIs(t, err, protocol.ErrCancelled)
	require.NoError(t, sub.Cancel(e.ctx))
}

func TestSubscriptionEndsWhenTheClientCloses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sr := &protocol.SubscribeResponder{}
	e.spawn("news", sr)
	sub := subscribed(t, e, "news", sr)
	require.NoError(t, e.c.Close())
	_, err := sub.Next(e.ctx)
	assert.ErrorIs(t, err, protocol.ErrClosed)
	assert.ErrorIs(t, sub.Cancel(e.ctx), protocol.ErrClosed)
}

func TestPublishToAGoneSubscriber(t *testing.T) {
	t.Parallel()
	for _, drop := range []bool{false, true} {
		t.Run(fmt.Sprint("drop=", drop), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			sr := &protocol.SubscribeResponder{}
			if drop {
				sr.Gone = func(err error) bool { return errors.Is(err, caxton.ErrAgentNotFound) }
			}
			e.spawn("news", sr)
			subscribed(t, e, "news", sr)
			require.NoError(t, e.ib.Close())
			err := sr.Publish(e.ctx, hostSend(e.rt, "news"), []byte("anyone?"))
			if drop {
				assert.NoError(t, err)
				assert.Zero(t, sr.Subscribers())
				return
			}
			assert.ErrorIs(t, err, caxton.ErrAgentNotFound)
			assert.Contains(t, err.Error(), `publish to "initiator"`)
			assert.Equal(t, 1, sr.Subscribers())
		})
	}
}

func TestSubscribeWithReplyByThatIsMet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sr := &protocol.SubscribeResponder{}
	e.spawn("news", sr)
	m := acl.New(0, "news")
	m.ReplyBy = e.rt.Clock.Now().Add(time.Minute)
	sub, err := e.c.Subscribe(e.ctx, m)
	require.NoError(t, err)
	require.Equal(t, 1, sr.Subscribers())
	caxtontest.Eventually(t, func() bool { return e.rt.Clock.Pending() == 0 }, "the agree deadline to be released")
	e.rt.Clock.Advance(time.Hour)
	require.NoError(t, sr.Publish(e.ctx, hostSend(e.rt, "news"), []byte("later")))
	got, err := sub.Next(e.ctx)
	require.NoError(t, err, "ReplyBy bounds the agree, not the stream")
	assert.Equal(t, "later", string(got.Content))
}
