package contractnet_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each message that breaks the protocol is answered with not-understood and
// listed in Result.Violations, whatever phase it arrives in.
func TestProtocolViolations(t *testing.T) {
	f := newFixture(t)
	p, q, stranger := f.puppet("p"), f.puppet("q"), f.puppet("stranger")
	m := f.cfp(time.Second, "p", "q")
	n := f.start(m)
	cfpP := p.await(t, acl.CFP)
	q.await(t, acl.CFP) // q stays silent: phase one stays open

	type step struct {
		who    *puppet
		send   func() *acl.Message
		reason string
	}
	steps := []step{
		{who: p, reason: "conversation-id", send: func() *acl.Message {
			r := cfpP.CreateReply(acl.Propose) // routed here by in-reply-to
			r.ConversationID, r.Content = "someone-elses", []byte(`{"cost":1}`)
			return r
		}},
		{who: p, reason: "inform is out of sequence", send: func() *acl.Message { return cfpP.CreateReply(acl.Inform) }},
		{who: stranger, reason: "not called", send: func() *acl.Message {
			r := acl.New(acl.Propose, initiatorName)
			r.ConversationID, r.Content = n.ConversationID(), []byte(`{"cost":0}`)
			return r
		}},
		{who: stranger, reason: "not called", send: func() *acl.Message { // even answering another's call
			r := cfpP.CreateReply(acl.Propose)
			r.Content = []byte(`{"cost":0}`)
			return r
		}},
		{who: stranger, reason: "refuse is out of sequence", send: func() *acl.Message { return cfpP.CreateReply(acl.Refuse) }},
	}
	for i, s := range steps {
		msg, before := s.send(), s.who.count(acl.NotUnderstood)
		s.who.do(t, func(ctx context.Context, mc *caxton.MessageContext) error { return mc.Send(ctx, msg) })
		nu := s.who.awaitNth(t, acl.NotUnderstood, before+1)
		assert.Contains(t, string(nu.Content), s.reason, "step %d", i)
		assert.Equal(t, msg.ConversationID, nu.ConversationID, "step %d", i)
		assert.Equal(t, msg.ReplyWith, nu.InReplyTo, "step %d", i)
	}

	p.propose(t, cfpP, 3)
	f.ev.await(t, contractnet.EventPropose, "p")
	p.propose(t, cfpP, 2) // a second answer
	nu := p.awaitNth(t, acl.NotUnderstood, 3)
	assert.Contains(t, string(nu.Content), "second answer")
	f.expire(m)
	acc := p.await(t, acl.AcceptProposal)

	// Phase two: a stranger reports.
	stranger.reply(t, acc, acl.Failure, []byte("me too"))
	assert.Contains(t, string(stranger.awaitNth(t, acl.NotUnderstood, 4).Content), "out of sequence")
	p.reply(t, acc, acl.Inform, []byte("done"))
	f.ev.await(t, contractnet.EventResult, "p")
	res, err := wait(t, n)
	require.NoError(t, err)

	assert.Equal(t, contractnet.Informed, res.Outcomes[0].Status)
	assert.Equal(t, ids("p"), names(res.Rounds[0].Proposals))
	o, err := res.Rounds[0].Proposals[0].Offer()
	require.NoError(t, err)
	assert.Equal(t, 3.0, o.Cost, "the first answer counts")
	want := []struct {
		who    acl.AgentID
		reason string
	}{
		{"p", "someone-elses"}, {"p", "out of sequence"}, {"stranger", "not called"}, {"stranger", "not called"},
		{"stranger", "out of sequence"}, {"p", "second answer"}, {"stranger", "out of sequence"},
	}
	require.Len(t, res.Violations, len(want))
	for i, w := range want {
		v := res.Violations[i]
		assert.Equal(t, w.who, v.Message.Sender, "violation %d", i)
		assert.Contains(t, v.Reason, w.reason, "violation %d", i)
		assert.ErrorIs(t, v, protocol.ErrViolation)
	}
	assert.Equal(t, len(want), f.ev.count(contractnet.EventViolation))
}

// A not-understood is recorded but never answered, so two parties that do
// not understand each other do not loop.
func TestNotUnderstoodIsNotAnswered(t *testing.T) {
	f := newFixture(t)
	p, q := f.puppet("p"), f.puppet("q")
	m := f.cfp(time.Second, "p", "q")
	n := f.start(m)
	cfp := p.await(t, acl.CFP)
	q.await(t, acl.CFP)
	p.propose(t, cfp, 1)
	p.reply(t, cfp, acl.NotUnderstood, []byte("huh")) // after its proposal
	f.ev.await(t, contractnet.EventViolation, "p")
	f.expire(m)
	acc := p.await(t, acl.AcceptProposal)
	p.reply(t, acc, acl.Inform, nil)
	res, err := wait(t, n)
	require.NoError(t, err)
	require.Len(t, res.Violations, 1)
	assert.Contains(t, res.Violations[0].Reason, "huh")
	assert.Zero(t, p.count(acl.NotUnderstood))
}

// After the end, a proposal is rejected as late, an answer to a cancel or
// a report is taken quietly, and anything else is not understood.
func TestAfterEnd(t *testing.T) {
	f := newFixture(t)
	p := f.puppet("p")
	n := f.start(f.cfp(time.Second, "p"))
	cfp := p.await(t, acl.CFP)
	p.reply(t, cfp, acl.Refuse, []byte("no"))
	res, err := wait(t, n)
	require.NoError(t, err)
	assert.Equal(t, "no", res.Rounds[0].Refused["p"])

	tests := []struct {
		perf  acl.Performative
		reply acl.Performative // 0: none
	}{
		{acl.Propose, acl.RejectProposal},
		{acl.Inform, 0},
		{acl.Failure, 0},
		{acl.NotUnderstood, 0},
		{acl.Agree, acl.NotUnderstood},
		{acl.Refuse, acl.NotUnderstood},
	}
	answers := 0
	for i, tt := range tests {
		before := p.count(tt.reply)
		p.reply(t, cfp, tt.perf, []byte(`{"cost":1}`))
		f.ev.awaitN(t, contractnet.EventAfterEnd, i+1)
		if tt.reply != 0 {
			answers++
			got := p.awaitNth(t, tt.reply, before+1)
			assert.Equal(t, cfp.ConversationID, got.ConversationID, "%s", tt.perf)
			assert.Contains(t, string(got.Content), "ended", "%s", tt.perf)
		}
	}
	// The call, the cue to refuse, one cue per case, and the answers:
	// anything more would be an answer that should not have been sent (each
	// case's answer goes out before the next case's event, and the last
	// case's answer was awaited).
	f.processed("p", uint64(2+len(tests)+answers))
	info, err := f.rt.Agent("p")
	require.NoError(t, err)
	assert.EqualValues(t, 2+len(tests)+answers, info.Processed)
	assert.Equal(t, 1, p.count(acl.RejectProposal))
	assert.Equal(t, 2, p.count(acl.NotUnderstood))
}

// A second proposal is a violation even when it is also late, so the
// reject meant for a late bid never reaches a proposer whose first bid
// stands — least of all a winner at work.
func TestSecondProposalIsNotRejected(t *testing.T) {
	f := newFixture(t)
	p, q := f.puppet("p"), f.puppet("q")
	m := f.cfp(time.Second, "p", "q")
	n := f.start(m)
	cfp := p.await(t, acl.CFP)
	q.await(t, acl.CFP)
	p.propose(t, cfp, 1)
	f.ev.await(t, contractnet.EventPropose, "p")
	r := cfp.CreateReply(acl.Propose)
	r.Content, r.CreatedAt = []byte(`{"cost":0.5}`), m.ReplyBy // late too
	p.sendStamped(t, r)
	assert.Contains(t, string(p.await(t, acl.NotUnderstood).Content), "second answer")
	f.expire(m)
	acc := p.await(t, acl.AcceptProposal)

	p.propose(t, cfp, 0.1) // during phase two
	assert.Contains(t, string(p.awaitNth(t, acl.NotUnderstood, 2).Content), "second answer")
	q.do(t, func(ctx context.Context, mc *caxton.MessageContext) error {
		r := acl.New(acl.Propose, initiatorName) // no in-reply-to: the last round's
		r.ConversationID, r.Content = cfp.ConversationID, []byte(`{"cost":0}`)
		return mc.Send(ctx, r)
	})
	assert.Contains(t, string(q.await(t, acl.RejectProposal).Content), "late")
	p.reply(t, acc, acl.Inform, nil)
	res, err := wait(t, n)
	require.NoError(t, err)
	assert.Equal(t, contractnet.Done, res.Outcomes[0].Status)
	assert.Equal(t, ids("q"), names(res.Late))
	require.Len(t, res.Violations, 2)
	assert.Zero(t, p.count(acl.RejectProposal))
}
