package caxton_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func request(content string, to ...acl.AgentID) *acl.Message {
	return &acl.Message{Performative: acl.Request, Receivers: to, Content: []byte(content)}
}

func TestRequestFillsConversationFields(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "echo", Handler: echo()})
	m := request("q", "echo")
	reply := rt.MustRequest(m)
	assert.NotEmpty(t, m.ReplyWith)
	assert.Equal(t, m.ReplyWith, m.ConversationID, "a fresh conversation is named after the request")
	assert.Equal(t, m.ReplyWith, reply.InReplyTo)
	assert.Equal(t, m.ConversationID, reply.ConversationID)
}

func TestAgentRequestsFromInsideItsHandler(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "echo", Handler: echo()})
	rt.MustSpawn(caxton.AgentSpec{Name: "relay", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		ans, err := mc.Request(ctx, request("inner:"+string(mc.Message().Content), "echo"))
		if err != nil {
			return err
		}
		return mc.Reply(ctx, acl.Inform, ans.Content)
	})})
	reply := rt.MustRequest(request("x", "relay"))
	assert.Equal(t, "inner:x", string(reply.Content))
	assert.Equal(t, acl.AgentID("relay"), reply.Sender)
}

func TestReplyMatchedByConversationWhenInReplyToIsMissing(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "terse", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		in := mc.Message()
		return mc.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{in.Sender}, ConversationID: in.ConversationID, Content: []byte("ok")})
	})})
	m := request("q", "terse")
	m.ConversationID = "conv-7"
	reply := rt.MustRequest(m)
	assert.Equal(t, "ok", string(reply.Content))
	assert.Equal(t, 0, rt.Inbox().Len())
}

func TestRequestEndsAtReplyBy(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	caxtontest.NewRecorder(t, rt.Runtime, "silent")
	m := request("q", "silent")
	m.ReplyBy = rt.Clock.Now().Add(5 * time.Second)
	errc := make(chan error, 1)
	go func() {
		_, err := rt.Request(caxtontest.Context(t), m)
		errc <- err
	}()
	rt.AdvanceWhenWaiting(1, 5*time.Second)
	assert.ErrorIs(t, <-errc, caxton.ErrNoReply)
}

func TestRequestEndsWithContext(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	caxtontest.NewRecorder(t, rt.Runtime, "silent")
	ctx, cancel := context.WithCancel(caxtontest.Context(t))
	errc := make(chan error, 1)
	go func() {
		_, err := rt.Request(ctx, request("q", "silent"))
		errc <- err
	}()
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
}

// A reply that arrives after its Request gave up is a late reply: it is
// recorded and handed to the hook, not delivered to the requester — so
// abandoned requests cannot fill the host inbox until responders' replies
// fail — and the responder's Reply succeeds.
func TestLateRepliesAreRecordedNotDelivered(t *testing.T) {
	hooked := make(chan caxton.LateReply, 8)
	rt := caxtontest.NewRuntime(t, caxton.WithInboxCapacity(2), caxton.WithLateReplyHook(func(lr caxton.LateReply) { hooked <- lr }))
	const n = 5 // more than the inbox holds
	received, release := make(chan struct{}, n), make(chan struct{})
	rt.MustSpawn(caxton.AgentSpec{Name: "slow", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		received <- struct{}{}
		<-release
		return mc.Reply(ctx, acl.Inform, []byte("late"))
	})})
	var asked []string
	for i := range n {
		ctx, cancel := context.WithCancel(caxtontest.Context(t))
		errc := make(chan error, 1)
		m := request(fmt.Sprint("q", i), "slow")
		go func() { _, err := rt.Request(ctx, m); errc <- err }()
		if i == 0 {
			recvWithin(t, received)
		} else {
			caxtontest.Eventually(t, func() bool { return must(rt.Agent("slow")).QueueDepth == i }, "request %d queued", i)
		}
		cancel()
		require.ErrorIs(t, recvWithin(t, errc), context.Canceled)
		asked = append(asked, m.ReplyWith)
	}
	close(release)
	var got []string
	for range n {
		lr := recvWithin(t, hooked)
		got = append(got, lr.Request)
		assert.Equal(t, "late", string(lr.Reply.Content))
		assert.Equal(t, rt.Inbox().Name(), lr.Requester)
		assert.False(t, lr.At.Before(lr.GaveUp))
	}
	assert.Equal(t, asked, got)
	info := must(rt.Agent("slow"))
	assert.Equal(t, uint64(n), info.Processed, "every Reply succeeded")
	assert.Zero(t, info.Failed)
	assert.Zero(t, rt.Inbox().Len(), "nothing landed in the inbox")
	recorded, total := rt.LateReplies()
	assert.Len(t, recorded, n)
	assert.Equal(t, uint64(n), total)
}

// The record is bounded, and WithLateReplies(0) turns it off: late replies
// are then ordinary messages to the requester.
func TestLateReplyRecordIsBoundedOrOff(t *testing.T) {
	for _, tc := range []struct {
		retain   int
		recorded int
		inbox    int
	}{{retain: 2, recorded: 2, inbox: 1}, {retain: 0, recorded: 0, inbox: 3}} {
		t.Run(fmt.Sprint("retain=", tc.retain), func(t *testing.T) {
			rt := caxtontest.NewRuntime(t, caxton.WithLateReplies(tc.retain))
			rec := caxtontest.NewRecorder(t, rt.Runtime, "peer")
			var reqs []*acl.Message
			for i := range 3 {
				ctx, cancel := context.WithCancel(caxtontest.Context(t))
				m := request(fmt.Sprint("q", i), "peer")
				errc := make(chan error, 1)
				go func() { _, err := rt.Request(ctx, m); errc <- err }()
				rec.AwaitN(t, i+1)
				cancel()
				require.ErrorIs(t, recvWithin(t, errc), context.Canceled)
				reqs = append(reqs, m)
			}
			for _, m := range reqs { // answered late, oldest first
				r := m.CreateReply(acl.Inform)
				r.Sender = "peer"
				rt.MustSend(r)
			}
			recorded, total := rt.LateReplies()
			assert.Len(t, recorded, tc.recorded)
			assert.Equal(t, uint64(tc.recorded), total, "only requests still remembered are recognised")
			if tc.retain > 0 {
				assert.Equal(t, reqs[1].ReplyWith, recorded[0].Request, "the oldest given-up request was forgotten first")
			}
			assert.Equal(t, tc.inbox, rt.Inbox().Len())
		})
	}
	_, err := caxton.New(caxton.WithLateReplies(-1))
	var se *caxton.SpecError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "WithLateReplies", se.Field)
}

func TestDuplicateReplyWithIsRefused(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "silent")
	first := request("q", "silent")
	first.ReplyWith = "same"
	ctx, cancel := context.WithCancel(caxtontest.Context(t))
	defer cancel()
	go func() { _, _ = rt.Request(ctx, first) }()
	rec.Await(t, nil) // the first request is registered before it is sent

	second := request("q", "silent")
	second.ReplyWith = "same"
	_, err := rt.Request(caxtontest.Context(t), second)
	var fe *acl.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "reply_with", fe.Field)
}

// Only someone the request reached can answer it. A third party that knows
// (or guesses) the conversation id and the reply-with cannot slip in a
// "reply": its message is an ordinary one for the requester, and the real
// reply still ends the Request.
func TestReplyMustComeFromWhomTheRequestReached(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	mallory, err := rt.NewInbox("mallory")
	require.NoError(t, err)
	release := make(chan struct{})
	received := make(chan *acl.Message, 1)
	rt.MustSpawn(caxton.AgentSpec{Name: "bank", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		received <- mc.Message()
		<-release
		return mc.Reply(ctx, acl.Inform, []byte("balance: 10"))
	})})
	replies := make(chan *acl.Message, 1)
	go func() {
		r, err := rt.Request(caxtontest.Context(t), request("balance?", "bank"))
		assert.NoError(t, err)
		replies <- r
	}()
	asked := recvWithin(t, received)
	spoof := asked.CreateReply(acl.Inform)
	spoof.Content = []byte("balance: 1000000")
	require.NoError(t, mallory.Send(caxtontest.Context(t), spoof))
	byConv := &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{rt.Inbox().Name()}, ConversationID: asked.ConversationID, Content: []byte("by conversation")}
	require.NoError(t, mallory.Send(caxtontest.Context(t), byConv))
	close(release)
	assert.Equal(t, "balance: 10", string(recvWithin(t, replies).Content))
	assert.Equal(t, 2, rt.Inbox().Len(), "the spoofed replies are ordinary messages to the host")

	// An agent's pending Request is protected the same way.
	release2 := make(chan struct{})
	rt.MustSpawn(caxton.AgentSpec{Name: "teller", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		received <- mc.Message()
		<-release2
		return mc.Reply(ctx, acl.Inform, []byte("real"))
	})})
	rt.MustSpawn(caxton.AgentSpec{Name: "clerk", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if mc.Message().Performative != acl.Request {
			return nil // the spoof, delivered to the clerk's mailbox afterwards
		}
		ans, err := mc.Request(ctx, request("ask", "teller"))
		if err != nil {
			return err
		}
		return mc.Reply(ctx, acl.Inform, ans.Content)
	})})
	go func() {
		r, err := rt.Request(caxtontest.Context(t), request("go", "clerk"))
		assert.NoError(t, err)
		replies <- r
	}()
	inner := recvWithin(t, received)
	fake := inner.CreateReply(acl.Inform)
	fake.Content = []byte("fake")
	require.NoError(t, mallory.Send(caxtontest.Context(t), fake))
	close(release2)
	assert.Equal(t, "real", string(recvWithin(t, replies).Content))
}

// Whoever a request reached may answer it: a topic's subscribers, and a
// content rule's target.
func TestRequestToATopicIsAnsweredByASubscriber(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "oracle", Topics: []string{"questions"}, Handler: echo()})
	reply := rt.MustRequest(request("why?", acl.Topic("questions")))
	assert.Equal(t, acl.AgentID("oracle"), reply.Sender)

	rt.MustSpawn(caxton.AgentSpec{Name: "auditor", Handler: echo()})
	rt.MustSpawn(caxton.AgentSpec{Name: "quiet", Handler: lcNop()})
	_, err := rt.AddRule(acl.MatchPerformative(acl.QueryRef), "auditor")
	require.NoError(t, err)
	q := request("how much?", "quiet")
	q.Performative = acl.QueryRef
	reply = rt.MustRequest(q)
	assert.Equal(t, acl.AgentID("auditor"), reply.Sender, "the rule's target was reached, so it may answer")
}

// A Request whose message is dead-lettered ends at once with the dead
// letter's reason (the runtime answers with a FIPA failure), instead of
// waiting for its context or reply-by.
func TestRequestEndsWhenItsMessageIsDeadLettered(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler caxton.Handler
		reason  string
		last    string
	}{
		{"fails every attempt", caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
			return errors.New("database down")
		}), "max attempts", "database down"},
		{"panics", caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
			panic("boom")
		}), "max attempts", "panicked: boom"},
		{"fails permanently", caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
			return caxton.Permanent(errors.New("no such account"))
		}), "permanent failure", "no such account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := caxtontest.NewRuntime(t)
			rt.MustSpawn(caxton.AgentSpec{Name: "broken", Handler: tc.handler, Delivery: caxton.DeliveryPolicy{MaxAttempts: 1}})
			m := request("q", "broken")
			m.ReplyBy = rt.Clock.Now().Add(time.Hour) // never reached: the fake clock does not move
			_, err := rt.Request(caxtontest.Context(t), m)
			require.ErrorIs(t, err, caxton.ErrDeadLettered)
			var de *caxton.DeadLetteredError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, acl.AgentID("broken"), de.Receiver)
			assert.Equal(t, tc.reason, de.Reason)
			assert.Equal(t, m.ReplyWith, de.Request)
			assert.Contains(t, err.Error(), tc.last)
			dls, derr := rt.DeadLetters(context.Background())
			require.NoError(t, derr)
			require.Len(t, dls, 1)
			assert.Equal(t, dls[0].ID, de.DeadLetter)
			assert.Equal(t, acl.Failure, de.Notice.Performative)
			assert.Equal(t, acl.AgentID("caxton"), de.Notice.Sender)
		})
	}

	// A removed agent's queued requests end too, and an agent requesting
	// from inside its handler gets the same error.
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "gone", Handler: lcNop()})
	require.NoError(t, rt.Stop(caxtontest.Context(t), "gone"))
	errc := make(chan error, 1)
	go func() { _, err := rt.Request(caxtontest.Context(t), request("q", "gone")); errc <- err }()
	caxtontest.Eventually(t, func() bool { return must(rt.Agent("gone")).QueueDepth == 1 }, "the request queued")
	require.NoError(t, rt.Remove(caxtontest.Context(t), "gone"))
	var de *caxton.DeadLetteredError
	require.ErrorAs(t, recvWithin(t, errc), &de)
	assert.Equal(t, "agent removed", de.Reason)

	rt.MustSpawn(caxton.AgentSpec{Name: "picky", Delivery: caxton.DeliveryPolicy{MaxAttempts: 1},
		Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { return errors.New("no") })})
	rt.MustSpawn(caxton.AgentSpec{Name: "asker", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		_, err := mc.Request(ctx, request("inner", "picky"))
		if !errors.Is(err, caxton.ErrDeadLettered) {
			return fmt.Errorf("want a dead-letter error, got %v", err)
		}
		return mc.Reply(ctx, acl.Inform, []byte("picky could not answer"))
	})})
	assert.Equal(t, "picky could not answer", string(rt.MustRequest(request("go", "asker")).Content))
}
