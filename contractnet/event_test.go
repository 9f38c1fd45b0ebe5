package contractnet_test

import (
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kinds returns the kinds of evs.
func kinds(evs []contractnet.Event) []contractnet.EventKind {
	out := make([]contractnet.EventKind, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}

func TestOnEventSeesTheStepsInOrder(t *testing.T) {
	f := newFixture(t)
	f.bidder("a", 1)
	f.refuser("b", "no")
	f.bidder("c", 2)
	mute := f.puppet("mute")
	m := f.cfp(time.Second, "a", "b", "c", "mute", "ghost")
	n := f.start(m)
	mute.await(t, acl.CFP)
	for _, who := range ids("a", "c") {
		f.ev.await(t, contractnet.EventPropose, who)
	}
	f.ev.await(t, contractnet.EventRefuse, "b")
	f.expire(m)
	_, err := wait(t, n)
	require.NoError(t, err)

	evs := f.ev.all()
	require.Len(t, evs, 12)
	// The calls, in order, with the unreachable one in its place.
	assert.Equal(t, []contractnet.EventKind{contractnet.EventCall, contractnet.EventCall, contractnet.EventCall,
		contractnet.EventCall, contractnet.EventUnreachable}, kinds(evs[:5]))
	assert.Equal(t, ids("a", "b", "c", "mute", "ghost"), []acl.AgentID{evs[0].Participant, evs[1].Participant,
		evs[2].Participant, evs[3].Participant, evs[4].Participant})
	// The answers, in arrival order.
	assert.ElementsMatch(t, []contractnet.EventKind{contractnet.EventPropose, contractnet.EventPropose, contractnet.EventRefuse},
		kinds(evs[5:8]))
	// Then the deadline, the decision and the report.
	assert.Equal(t, []contractnet.EventKind{contractnet.EventSilent, contractnet.EventAccept, contractnet.EventReject,
		contractnet.EventResult}, kinds(evs[8:]))
	assert.Equal(t, []acl.AgentID{"mute", "a", "c", "a"}, []acl.AgentID{evs[8].Participant, evs[9].Participant,
		evs[10].Participant, evs[11].Participant})

	for i, ev := range evs {
		assert.Equal(t, n.ConversationID(), ev.Conversation, "event %d", i)
		assert.False(t, ev.Time.IsZero(), "event %d", i)
		assert.Equal(t, 1, ev.Round, "event %d (%s) is of the one round", i, ev.Kind)
	}
	assert.Equal(t, "round 1 reject c: another proposal was chosen", evs[10].String())
	assert.Equal(t, "round 1 accept a: accept-proposal", evs[9].String())
	assert.Equal(t, "round 1 silent mute", evs[8].String())
	assert.Equal(t, 1, evs[0].Round)
	assert.Equal(t, acl.CFP, evs[0].Message.Performative)
	assert.Equal(t, "no", findKind(evs, contractnet.EventRefuse).Reason)
	assert.Nil(t, evs[8].Message, "silence has no message")
	assert.Equal(t, acl.AcceptProposal, evs[9].Message.Performative)
	assert.Equal(t, acl.RejectProposal, evs[10].Message.Performative)
	assert.Equal(t, acl.Inform, evs[11].Message.Performative)
	assert.True(t, evs[8].Time.Equal(m.ReplyBy), "the deadline passed on the runtime's clock")
}

func findKind(evs []contractnet.Event, k contractnet.EventKind) contractnet.Event {
	for _, ev := range evs {
		if ev.Kind == k {
			return ev
		}
	}
	return contractnet.Event{}
}

func TestNoOnEventIsFine(t *testing.T) {
	f := newFixture(t)
	f.bidder("a", 1)
	f.in.OnEvent = nil
	res, err := f.in.Run(caxtontest.Context(t), f.cfp(time.Second, "a", "ghost"))
	require.NoError(t, err)
	assert.Len(t, res.Succeeded(), 1)
}

func TestNames(t *testing.T) {
	kinds := map[contractnet.EventKind]string{
		contractnet.EventCall: "call", contractnet.EventUnreachable: "unreachable", contractnet.EventPropose: "propose",
		contractnet.EventRefuse: "refuse", contractnet.EventNotUnderstood: "not-understood", contractnet.EventLate: "late",
		contractnet.EventSilent: "silent", contractnet.EventViolation: "violation", contractnet.EventIterate: "iterate",
		contractnet.EventAccept: "accept", contractnet.EventReject: "reject", contractnet.EventDone: "done",
		contractnet.EventResult: "result", contractnet.EventFailure: "failure", contractnet.EventTimeout: "timeout",
		contractnet.EventCancel: "cancel", contractnet.EventCancelAck: "cancel-ack", contractnet.EventAfterEnd: "after-end",
		0: "unknown", 200: "unknown",
	}
	for k, want := range kinds {
		assert.Equal(t, want, k.String())
	}
	statuses := map[contractnet.Status]string{contractnet.Done: "done", contractnet.Informed: "informed",
		contractnet.Failed: "failed", contractnet.TimedOut: "timed out", contractnet.Cancelled: "cancelled", 0: "unknown", 99: "unknown"}
	for s, want := range statuses {
		assert.Equal(t, want, s.String())
	}
}

func TestResultHelpers(t *testing.T) {
	res := &contractnet.Result{Rounds: []*contractnet.Round{{Asked: ids("a", "b", "c")}, {Asked: ids("c", "a", "d")}},
		Outcomes: []contractnet.Outcome{
			{Participant: "a", Status: contractnet.Done},
			{Participant: "b", Status: contractnet.Failed},
			{Participant: "c", Status: contractnet.Informed, Message: &acl.Message{Content: []byte("r")}},
			{Participant: "d", Status: contractnet.TimedOut},
			{Participant: "e", Status: contractnet.Cancelled},
		}}
	assert.Equal(t, ids("a", "b", "c", "d"), res.Asked())
	var ok []acl.AgentID
	for _, o := range res.Succeeded() {
		ok = append(ok, o.Participant)
	}
	assert.Equal(t, ids("a", "c"), ok)
	assert.Equal(t, "r", string(res.Outcomes[2].Result()))
	assert.Nil(t, contractnet.Outcome{Status: contractnet.Informed}.Result(), "no message, no result")
	assert.Nil(t, contractnet.Outcome{Status: contractnet.Failed, Message: &acl.Message{Content: []byte("why")}}.Result())
	assert.Empty(t, (&contractnet.Result{}).Asked())
}

func TestCapability(t *testing.T) {
	c := contractnet.Capability("transport")
	assert.Equal(t, acl.AgentID(contractnet.CapabilityPrefix+"transport"), c)
	assert.NoError(t, c.Validate(), "it passes as a receiver name")
	assert.False(t, c.IsTopic())
}
