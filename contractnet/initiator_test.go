package contractnet_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParticipantsAreResolved(t *testing.T) {
	tests := []struct {
		name      string
		receivers []acl.AgentID
		want      []acl.AgentID
	}{
		{"named", ids("a", "b"), ids("a", "b")},
		{"topic subscribed at runtime", []acl.AgentID{acl.Topic("late-subs")}, ids("c", "d")},
		{"topic from AgentSpec.Topics", []acl.AgentID{acl.Topic("haul")}, ids("a", "b")},
		{"capability", []acl.AgentID{contractnet.Capability("fly")}, ids("b", "c")},
		{"mixed, without duplicates", []acl.AgentID{"d", contractnet.Capability("fly"), acl.Topic("haul"), "b"}, ids("d", "b", "c", "a")},
		{"the initiator never calls itself", []acl.AgentID{acl.Topic("everyone"), initiatorName}, ids("a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.bidder("a", 4, withTopics("haul", "everyone"))
			f.bidder("b", 3, withTopics("haul"), withCaps("fly"))
			f.bidder("c", 2, withCaps("fly", "swim"))
			f.bidder("d", 1)
			require.NoError(t, f.rt.Subscribe("late-subs", "c"))
			require.NoError(t, f.rt.Subscribe("late-subs", "d"))
			require.NoError(t, f.rt.Subscribe("everyone", initiatorName))

			res, err := f.in.Run(caxtontest.Context(t), f.cfp(time.Minute, tt.receivers...))
			require.NoError(t, err)
			require.Len(t, res.Rounds, 1)
			assert.Equal(t, tt.want, res.Rounds[0].Asked)
			assert.Equal(t, tt.want, res.Asked())
			assert.ElementsMatch(t, tt.want, names(res.Rounds[0].Proposals))
			assert.Empty(t, res.Rounds[0].Silent)
			require.Len(t, res.Winners, 1)
			cheapest := tt.want[0]
			for _, w := range tt.want {
				if w > cheapest { // the bidders' costs fall from a to d
					cheapest = w
				}
			}
			assert.Equal(t, cheapest, res.Winners[0].From)
		})
	}
}

func TestStartRejectsInvalidInput(t *testing.T) {
	f := newFixture(t)
	f.bidder("a", 1)
	now := f.rt.Clock.Now()
	noDirectory := &contractnet.Initiator{Client: f.cl}
	tests := []struct {
		name  string
		in    *contractnet.Initiator
		cfp   func() *acl.Message
		is    error
		field string
	}{
		{name: "nil client", in: &contractnet.Initiator{}, cfp: func() *acl.Message { return f.cfp(time.Second, "a") }},
		{name: "nil cfp", in: f.in, cfp: func() *acl.Message { return nil }, is: acl.ErrInvalid, field: "message"},
		{name: "wrong performative", in: f.in, is: acl.ErrInvalid, field: "performative", cfp: func() *acl.Message {
			m := f.cfp(time.Second, "a")
			m.Performative = acl.Request
			return m
		}},
		{name: "no reply-by", in: f.in, is: acl.ErrInvalid, field: "reply_by", cfp: func() *acl.Message {
			m := f.cfp(time.Second, "a")
			m.ReplyBy = time.Time{}
			return m
		}},
		{name: "reply-by now", in: f.in, is: acl.ErrInvalid, field: "reply_by", cfp: func() *acl.Message {
			m := f.cfp(time.Second, "a")
			m.ReplyBy = now
			return m
		}},
		{name: "reply-by past", in: f.in, is: acl.ErrInvalid, field: "reply_by", cfp: func() *acl.Message {
			m := f.cfp(time.Second, "a")
			m.ReplyBy = now.Add(-time.Hour)
			return m
		}},
		{name: "no receivers", in: f.in, is: contractnet.ErrNoParticipants, cfp: func() *acl.Message { return f.cfp(time.Second) }},
		{name: "only itself", in: f.in, is: contractnet.ErrNoParticipants, cfp: func() *acl.Message { return f.cfp(time.Second, initiatorName) }},
		{name: "topic nobody follows", in: f.in, is: contractnet.ErrNoParticipants, cfp: func() *acl.Message { return f.cfp(time.Second, acl.Topic("void")) }},
		{name: "capability nobody has", in: f.in, is: contractnet.ErrNoParticipants, cfp: func() *acl.Message { return f.cfp(time.Second, contractnet.Capability("void")) }},
		{name: "topic without directory", in: noDirectory, is: acl.ErrInvalid, field: "receiver", cfp: func() *acl.Message { return f.cfp(time.Second, acl.Topic("haul")) }},
		{name: "capability without directory", in: noDirectory, is: acl.ErrInvalid, field: "receiver", cfp: func() *acl.Message { return f.cfp(time.Second, contractnet.Capability("fly")) }},
		{name: "malformed receiver", in: f.in, is: acl.ErrInvalid, field: "receiver", cfp: func() *acl.Message { return f.cfp(time.Second, "no spaces") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.in.Start(caxtontest.Context(t), tt.cfp())
			require.Error(t, err)
			assert.Nil(t, n)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			var fe *acl.FieldError
			if tt.field != "" && assert.ErrorAs(t, err, &fe) {
				assert.Equal(t, tt.field, fe.Field)
			}
		})
	}
	res, err := f.in.Run(caxtontest.Context(t), f.cfp(time.Second, "a"))
	require.NoError(t, err, "the rejected calls left nothing behind")
	assert.Len(t, res.Succeeded(), 1)
}

func TestStartDefaultsAndConversation(t *testing.T) {
	f := newFixture(t)
	f.bidder("a", 1)
	m := f.cfp(time.Second, "a")
	m.Performative = 0
	m.ConversationID = "deal-7"
	n := f.start(m)
	assert.Equal(t, "deal-7", n.ConversationID())
	res, err := wait(t, n)
	require.NoError(t, err)
	assert.Equal(t, "deal-7", res.ConversationID)
	call := res.Rounds[0].CFP
	require.NotNil(t, call)
	assert.Equal(t, acl.CFP, call.Performative)
	assert.Equal(t, protocol.FIPAContractNet, call.Protocol)
	assert.Equal(t, "deal-7", call.ConversationID)
	assert.Equal(t, initiatorName, call.Sender)
	assert.Equal(t, m.ReplyBy, res.Rounds[0].Deadline)

	_, err = f.in.Start(caxtontest.Context(t), f.cfp(time.Second, "a"))
	require.NoError(t, err, "a fresh conversation id each time")
	f.puppet("mute") // keeps the conversation open
	dup := f.cfp(time.Second, "mute")
	dup.ConversationID = "open"
	_, err = f.in.Start(caxtontest.Context(t), dup)
	require.NoError(t, err)
	again := f.cfp(time.Second, "a")
	again.ConversationID = "open"
	_, err = f.in.Start(caxtontest.Context(t), again)
	require.ErrorIs(t, err, acl.ErrInvalid, "a conversation id already open")
}

func TestStartAfterClientClosed(t *testing.T) {
	f := newFixture(t)
	f.bidder("a", 1)
	require.NoError(t, f.cl.Close())
	_, err := f.in.Start(caxtontest.Context(t), f.cfp(time.Second, "a"))
	require.ErrorIs(t, err, protocol.ErrClosed)
}

// Every kind of answer in one round: propose, refuse, not-understood,
// silence, and a participant that does not exist.
func TestEveryAnswerOfPhaseOne(t *testing.T) {
	f := newFixture(t)
	f.bidder("cheap", 1)
	f.bidder("dear", 9)
	f.refuser("busy", "fully booked")
	f.spawn("confused", &contractnet.Participant{Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
		return contractnet.Offer{}, protocol.NotUnderstood("what is a task")
	}})
	f.puppet("mute")
	m := f.cfp(time.Second, "cheap", "dear", "busy", "confused", "mute", "ghost")
	n := f.start(m)
	for _, who := range ids("cheap", "dear") {
		f.ev.await(t, contractnet.EventPropose, who)
	}
	f.ev.await(t, contractnet.EventRefuse, "busy")
	f.ev.await(t, contractnet.EventNotUnderstood, "confused")
	f.expire(m)
	res, err := wait(t, n)
	require.NoError(t, err)

	r := res.Rounds[0]
	assert.Equal(t, 1, r.Number)
	assert.Equal(t, ids("cheap", "dear", "busy", "confused", "mute", "ghost"), r.Asked)
	assert.ElementsMatch(t, ids("cheap", "dear"), names(r.Proposals))
	assert.Equal(t, map[acl.AgentID]string{"busy": "fully booked"}, r.Refused)
	assert.Equal(t, map[acl.AgentID]string{"confused": "what is a task"}, r.NotUnderstood)
	require.Contains(t, r.Unreachable, acl.AgentID("ghost"))
	assert.Contains(t, r.Unreachable["ghost"], "not found")
	assert.Equal(t, ids("mute"), r.Silent)
	assert.Empty(t, res.Late)
	assert.Empty(t, res.Violations)
	require.Len(t, res.Winners, 1)
	assert.Equal(t, acl.AgentID("cheap"), res.Winners[0].From)
	assert.Equal(t, "cheap did task", string(res.Outcomes[0].Result()))
	for _, p := range r.Proposals {
		o, err := p.Offer()
		require.NoError(t, err)
		assert.Equal(t, map[acl.AgentID]float64{"cheap": 1, "dear": 9}[p.From], o.Cost)
		assert.Equal(t, 1, p.Round)
	}
	f.ev.await(t, contractnet.EventUnreachable, "ghost")
	f.ev.await(t, contractnet.EventSilent, "mute")
	rej := f.ev.await(t, contractnet.EventReject, "dear")
	assert.Equal(t, "another proposal was chosen", rej.Reason)
}

// No one answers in time: the round ends at the deadline, nobody wins, and
// it is not an error.
func TestNobodyAnswers(t *testing.T) {
	f := newFixture(t)
	a, b := f.puppet("a"), f.puppet("b")
	m := f.cfp(time.Second, "a", "b")
	n := f.start(m)
	a.await(t, acl.CFP)
	b.await(t, acl.CFP)
	f.expire(m)
	res, err := wait(t, n)
	require.NoError(t, err)
	assert.Equal(t, ids("a", "b"), res.Rounds[0].Silent)
	assert.Empty(t, res.Winners)
	assert.Empty(t, res.Outcomes)
}

// A proposal stamped at or after the deadline is rejected as late, whether
// it is read while the round is open, during phase two, or after the end.
func TestLateProposals(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	done := sync.OnceFunc(func() { close(release) })
	t.Cleanup(done)
	w := offering("winner", 1)
	w.Execute = func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
		<-release
		return nil, nil
	}
	f.spawn("winner", w)
	early, slow := f.puppet("early"), f.puppet("slow")
	m := f.cfp(time.Second, "winner", "early", "slow")
	n := f.start(m)
	f.ev.await(t, contractnet.EventPropose, "winner")

	// While the round is open: a proposal its sender stamped after the
	// deadline (a skewed clock) is late although it is read in time.
	cfpEarly := early.await(t, acl.CFP)
	r := cfpEarly.CreateReply(acl.Propose)
	r.Content, r.CreatedAt = []byte(`{"cost":0}`), m.ReplyBy
	early.sendStamped(t, r)
	rej := early.await(t, acl.RejectProposal)
	assert.Contains(t, string(rej.Content), "late")
	assert.Equal(t, 1, f.ev.count(contractnet.EventLate))

	// During phase two: slow answers exactly at the deadline.
	cfpSlow := slow.await(t, acl.CFP)
	f.expire(m)
	f.ev.await(t, contractnet.EventAccept, "winner")
	slow.propose(t, cfpSlow, 0.5)
	rej = slow.await(t, acl.RejectProposal)
	assert.Contains(t, string(rej.Content), "late")
	assert.Equal(t, cfpSlow.ConversationID, rej.ConversationID)

	done()
	res, err := wait(t, n)
	require.NoError(t, err)
	assert.Equal(t, contractnet.Done, res.Outcomes[0].Status)
	assert.Equal(t, ids("early", "slow"), names(res.Late))
	assert.Equal(t, ids("early", "slow"), names(res.Rounds[0].Late))
	assert.Equal(t, ids("winner"), names(res.Rounds[0].Proposals))
	assert.Equal(t, ids("early", "slow"), res.Rounds[0].Silent)

	// After the end: the ended conversation still answers.
	slow.propose(t, cfpSlow, 0.1)
	rej = slow.awaitNth(t, acl.RejectProposal, 2)
	assert.Contains(t, string(rej.Content), "late")
	ev := f.ev.await(t, contractnet.EventAfterEnd, "slow")
	assert.Equal(t, acl.Propose, ev.Message.Performative)
	assert.Len(t, res.Late, 2, "the result does not change after the end")
}

// A proposal sent in time that reaches the initiator only after the round
// was decided is rejected as late too, saying why.
func TestProposalSentInTimeButReadAfterTheDecision(t *testing.T) {
	f := newFixture(t)
	w, slow := f.puppet("w"), f.puppet("slow")
	m := f.cfp(time.Second, "w", "slow")
	n := f.start(m)
	w.propose(t, w.await(t, acl.CFP), 1)
	f.ev.await(t, contractnet.EventPropose, "w") // read in time, not just sent
	cfp := slow.await(t, acl.CFP)
	f.expire(m)
	acc := w.await(t, acl.AcceptProposal)
	r := cfp.CreateReply(acl.Propose)
	r.Content, r.CreatedAt = []byte(`{"cost":0}`), m.ReplyBy.Add(-time.Millisecond)
	slow.sendStamped(t, r)
	rej := slow.await(t, acl.RejectProposal)
	assert.Equal(t, "late: the proposal arrived after the round was decided", string(rej.Content))
	w.reply(t, acc, acl.Inform, nil)
	res, err := wait(t, n)
	require.NoError(t, err)
	assert.Equal(t, ids("slow"), names(res.Late))
}
