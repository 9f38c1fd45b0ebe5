//go:build !wasip1

// The runtime (wasmtime, cgo) does not build for wasip1: tests against it
// run on the host only.

package protocol_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestAgainstRequestResponder(t *testing.T) {
	t.Parallel()
	do := func(out string, err error) func(context.Context, *acl.Message) ([]byte, error) {
		return func(context.Context, *acl.Message) ([]byte, error) {
			if out == "" {
				return nil, err
			}
			return []byte(out), err
		}
	}
	check := func(err error) func(context.Context, *acl.Message) error {
		return func(context.Context, *acl.Message) error { return err }
	}
	tests := []struct {
		name      string
		r         protocol.RequestResponder
		agreed    bool
		result    string           // the inform's content, on success
		sentinel  error            // the error, on failure
		answer    acl.Performative // the *ReplyError's act
		reasonHas string
	}{
		{name: "inform-done", r: protocol.RequestResponder{Do: do("", nil)}},
		{name: "inform-result after agree", r: protocol.RequestResponder{Agree: true, Do: do("42", nil)}, agreed: true, result: "42"},
		{name: "check refuses, no agree", r: protocol.RequestResponder{Agree: true, Check: check(protocol.Refuse("busy")), Do: do("x", nil)},
			sentinel: protocol.ErrRefused, answer: acl.Refuse, reasonHas: "busy"},
		{name: "check misunderstands", r: protocol.RequestResponder{Check: check(protocol.NotUnderstood("what sku?")), Do: do("x", nil)},
			sentinel: protocol.ErrNotUnderstood, answer: acl.NotUnderstood, reasonHas: "what sku?"},
		{name: "check fails", r: protocol.RequestResponder{Check: check(errNope), Do: do("x", nil)},
			sentinel: protocol.ErrFailure, answer: acl.Failure, reasonHas: "nope"},
		{name: "do refuses without agree", r: protocol.RequestResponder{Do: do("", protocol.Refuse("out of stock"))},
			sentinel: protocol.ErrRefused, answer: acl.Refuse, reasonHas: "out of stock"},
		{name: "do refuses after agree: failure", r: protocol.RequestResponder{Agree: true, Do: do("", protocol.Refuse("out of stock"))},
			agreed: true, sentinel: protocol.ErrFailure, answer: acl.Failure, reasonHas: "out of stock"},
		{name: "do fails after agree", r: protocol.RequestResponder{Agree: true, Do: do("", errNope)},
			agreed: true, sentinel: protocol.ErrFailure, answer: acl.Failure, reasonHas: "nope"},
		{name: "no Do", r: protocol.RequestResponder{},
			sentinel: protocol.ErrNotUnderstood, answer: acl.NotUnderstood, reasonHas: "performs no requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.spawn("seller", tc.r)
			m := acl.New(0, "seller")
			m.Content = []byte(`{"sku":"A-1"}`)
			ans, err := e.c.Request(e.ctx, m)
			require.NotNil(t, ans)
			assert.Empty(t, ans.Violations)
			assert.Equal(t, tc.agreed, ans.Agree != nil, "agree")
			if tc.sentinel == nil {
				require.NoError(t, err)
				require.NotNil(t, ans.Result)
				assert.Equal(t, acl.Inform, ans.Result.Performative)
				assert.Equal(t, tc.result, string(ans.Result.Content))
				assert.Equal(t, m.ConversationID, ans.Result.ConversationID)
				assert.Equal(t, m.ReplyWith, ans.Result.InReplyTo)
				return
			}
			require.ErrorIs(t, err, tc.sentinel)
			assert.Nil(t, ans.Result, "an unsuccessful answer is in the error")
			var re *protocol.ReplyError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.answer, re.Performative)
			assert.Equal(t, acl.AgentID("seller"), re.From)
			assert.Contains(t, re.Reason, tc.reasonHas)
			assert.Equal(t, m.ReplyWith, re.Message.InReplyTo)
		})
	}
}

func TestRequestFillsInDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.peer("seller", func(in *acl.Message) []*acl.Message { return msgs(reply(in, acl.Inform, "")) })
	m := acl.New(0, "seller")
	m.ConversationID = "order-7"
	_, err := e.c.Request(e.ctx, m)
	require.NoError(t, err)
	got := p.next(t)
	assert.Equal(t, acl.Request, got.Performative)
	assert.Equal(t, protocol.FIPARequest, got.Protocol)
	assert.Equal(t, "order-7", got.ConversationID, "a given conversation-id is used")
	assert.Equal(t, acl.AgentID("initiator"), got.Sender)
}

func TestInitiatorsCheckTheirMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	open, err := e.c.Open("taken")
	require.NoError(t, err)
	defer open.End()
	msg := func(f func(m *acl.Message)) *acl.Message {
		m := acl.New(0, "seller")
		f(m)
		return m
	}
	tests := []struct {
		name  string
		m     *acl.Message
		field string
	}{
		{"wrong performative", msg(func(m *acl.Message) { m.Performative = acl.Inform }), "performative"},
		{"no receiver", msg(func(m *acl.Message) { m.Receivers = nil }), "receiver"},
		{"two receivers", msg(func(m *acl.Message) { m.Receivers = append(m.Receivers, "other") }), "receiver"},
		{"topic", msg(func(m *acl.Message) { m.Receivers = []acl.AgentID{acl.Topic("sellers")} }), "receiver"},
		{"other protocol", msg(func(m *acl.Message) { m.Protocol = "my-protocol" }), "protocol"},
		{"answers elsewhere", msg(func(m *acl.Message) { m.ReplyTo = "someone-else" }), "reply_to"},
		{"conversation open", msg(func(m *acl.Message) { m.ConversationID = "taken" }), "conversation_id"},
	}
	initiators := map[string]func(m *acl.Message) (*protocol.Answer, error){
		"request":   func(m *acl.Message) (*protocol.Answer, error) { return e.c.Request(e.ctx, m) },
		"query-ref": func(m *acl.Message) (*protocol.Answer, error) { return e.c.QueryRef(e.ctx, m) },
		"propose":   func(m *acl.Message) (*protocol.Answer, error) { return e.c.Propose(e.ctx, m) },
		"query-if": func(m *acl.Message) (*protocol.Answer, error) {
			_, ans, err := e.c.QueryIf(e.ctx, m)
			return ans, err
		},
		"subscribe": func(m *acl.Message) (*protocol.Answer, error) {
			_, err := e.c.Subscribe(e.ctx, m)
			return &protocol.Answer{}, err
		},
	}
	for name, call := range initiators {
		for _, tc := range tests {
			ans, err := call(tc.m.Clone())
			assert.NotNil(t, ans, "%s, %s", name, tc.name)
			assert.ErrorIs(t, err, acl.ErrInvalid, "%s, %s", name, tc.name)
			assert.Equal(t, tc.field, fieldOf(err), "%s, %s: %v", name, tc.name, err)
		}
		ans, err := call(nil)
		assert.NotNil(t, ans)
		assert.Error(t, err, "%s: nil message", name)
	}
	_, err = e.c.Request(e.ctx, acl.New(0, "nobody"))
	assert.ErrorIs(t, err, caxton.ErrAgentNotFound, "a send error is returned as is")
}

// violationCase is a scripted responder that breaks the protocol before
// giving the real answer.
type violationCase struct {
	name   string
	script func(in *acl.Message, mallory *caxton.Inbox) []*acl.Message
	reason string // in the violation and in the not-understood
	from   string // who gets the not-understood: "peer" or "mallory"
}

func TestRequestReportsAndAnswersViolations(t *testing.T) {
	t.Parallel()
	tests := []violationCase{
		{name: "someone else answers", from: "mallory", reason: `"mallory" is not the responder "seller"`,
			script: func(in *acl.Message, mallory *caxton.Inbox) []*acl.Message {
				fake := reply(in, acl.Inform, "fake")
				fake.Receivers = []acl.AgentID{"initiator"}
				fake.ReplyWith = "mallory.1"
				if err := mallory.Send(context.Background(), fake); err != nil {
					panic(err)
				}
				return msgs(reply(in, acl.Inform, "real"))
			}},
		{name: "second agree", from: "peer", reason: "a second agree",
			script: func(in *acl.Message, _ *caxton.Inbox) []*acl.Message {
				return msgs(reply(in, acl.Agree, ""), reply(in, acl.Agree, ""), reply(in, acl.Inform, "real"))
			}},
		{name: "refuse after agree", from: "peer", reason: "refuse after agree",
			script: func(in *acl.Message, _ *caxton.Inbox) []*acl.Message {
				return msgs(reply(in, acl.Agree, ""), reply(in, acl.Refuse, ""), reply(in, acl.Inform, "real"))
			}},
		{name: "act that does not belong", from: "peer", reason: "propose does not belong in the fipa-request protocol",
			script: func(in *acl.Message, _ *caxton.Inbox) []*acl.Message {
				return msgs(reply(in, acl.Propose, ""), reply(in, acl.Inform, "real"))
			}},
		{name: "foreign conversation-id", from: "peer", reason: `conversation-id "elsewhere" is not this conversation's`,
			script: func(in *acl.Message, _ *caxton.Inbox) []*acl.Message {
				wrong := reply(in, acl.Inform, "wrong")
				wrong.ConversationID = "elsewhere"
				return msgs(wrong, reply(in, acl.Inform, "real"))
			}},
		{name: "unknown in-reply-to", from: "peer", reason: `in-reply-to "bogus" answers no message`,
			script: func(in *acl.Message, _ *caxton.Inbox) []*acl.Message {
				wrong := reply(in, acl.Inform, "wrong")
				wrong.InReplyTo = "bogus"
				return msgs(wrong, reply(in, acl.Inform, "real"))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mallory := e.inbox("mallory")
			p := e.peer("seller", func(in *acl.Message) []*acl.Message {
				if in.Performative != acl.Request {
					return nil
				}
				return tc.script(in, mallory)
			})
			ans, err := e.c.Request(e.ctx, acl.New(0, "seller"))
			require.NoError(t, err, "a violation does not end the conversation")
			assert.Equal(t, "real", string(ans.Result.Content))
			require.Len(t, ans.Violations, 1)
			v := ans.Violations[0]
			assert.Contains(t, v.Reason, tc.reason)
			assert.ErrorIs(t, v, protocol.ErrViolation)
			var nu *acl.Message
			if tc.from == "mallory" {
				nu = await(t, mallory)
			} else {
				p.next(t) // the request
				nu = p.nextOf(t, acl.NotUnderstood)
			}
			assert.Equal(t, acl.NotUnderstood, nu.Performative)
			assert.Equal(t, v.Message.ReplyWith, nu.InReplyTo, "the not-understood answers the violating message")
			assert.Contains(t, string(nu.Content), tc.reason)
		})
	}
}

func TestRequestAnswersAnAgreeAfterTheResult(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.peer("seller", func(in *acl.Message) []*acl.Message {
		if in.Performative != acl.Request {
			return nil
		}
		return msgs(reply(in, acl.Inform, "done"), reply(in, acl.Agree, ""))
	})
	ans, err := e.c.Request(e.ctx, acl.New(0, "seller"))
	require.NoError(t, err)
	assert.Equal(t, "done", string(ans.Result.Content))
	nu := p.nextOf(t, acl.NotUnderstood)
	assert.Contains(t, string(nu.Content), "agree after the result")
	// The agree either waited behind the result (reported in the Answer) or
	// came after Request returned (answered by the after-end handler).
	for _, v := range ans.Violations {
		assert.Equal(t, "agree after the result", v.Reason)
	}
	if len(ans.Violations) == 0 {
		assert.Contains(t, string(nu.Content), "is over")
	}
}

func TestRequestTimesOutOnTheClientClock(t *testing.T) {
	t.Parallel()
	for _, agree := range []bool{false, true} {
		name := map[bool]string{false: "no answer", true: "agreed, no result"}[agree]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.peer("slow", func(in *acl.Message) []*acl.Message {
				if agree && in.Performative == acl.Request {
					return msgs(reply(in, acl.Agree, ""))
				}
				return nil
			})
			m := acl.New(0, "slow")
			m.ReplyBy = e.rt.Clock.Now().Add(10 * time.Second)
			done := result(func() answerOf { ans, err := e.c.Request(e.ctx, m); return answerOf{ans, err} })
			req := p.next(t)
			e.flush() // the agree, if any, is in the conversation
			e.rt.AdvanceWhenWaiting(1, 9*time.Second)
			select {
			case got := <-done:
				t.Fatalf("returned before the deadline: %v", got.err)
			default:
			}
			e.rt.Clock.Advance(time.Second)
			got := recv(t, done)
			require.ErrorIs(t, got.err, protocol.ErrTimeout)
			assert.Equal(t, agree, got.ans.Agree != nil)
			assert.Equal(t, agree, strings.Contains(got.err.Error(), "agreed"), got.err.Error())

			// The answer that comes too late is told the conversation is over.
			late := reply(req, acl.Inform, "late")
			late.Sender = "slow"
			e.rt.MustSend(late)
			nu := p.nextOf(t, acl.NotUnderstood)
			assert.Contains(t, string(nu.Content), "reply-by deadline passed")
		})
	}
}

func TestRequestWithoutReplyByWaitsOnContextOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.peer("slow", nil)
	ctx, cancel := context.WithCancel(e.ctx)
	done := result(func() answerOf { ans, err := e.c.Request(ctx, acl.New(0, "slow")); return answerOf{ans, err} })
	p.next(t)
	assert.Zero(t, e.rt.Clock.Pending(), "no deadline, no timer")
	cancel()
	got := recv(t, done)
	assert.ErrorIs(t, got.err, context.Canceled)
	assert.NotNil(t, got.ans)
}

func TestRequestReturnsErrClosedWhenTheClientCloses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.peer("slow", nil)
	done := result(func() answerOf { ans, err := e.c.Request(e.ctx, acl.New(0, "slow")); return answerOf{ans, err} })
	p.next(t)
	require.NoError(t, e.c.Close())
	assert.ErrorIs(t, recv(t, done).err, protocol.ErrClosed)
}

func TestRequestReportsViolationsEvenWhenItFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.peer("seller", func(in *acl.Message) []*acl.Message {
		if in.Performative != acl.Request {
			return nil
		}
		return msgs(reply(in, acl.CFP, ""), reply(in, acl.Refuse, "no"))
	})
	ans, err := e.c.Request(e.ctx, acl.New(0, "seller"))
	require.ErrorIs(t, err, protocol.ErrRefused)
	require.Len(t, ans.Violations, 1)
	assert.Equal(t, acl.CFP, ans.Violations[0].Message.Performative)
	assert.True(t, errors.Is(ans.Violations[0], protocol.ErrViolation))
	assert.Contains(t, ans.Violations[0].Error(), "cfp")
}
