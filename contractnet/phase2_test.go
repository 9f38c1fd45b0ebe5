package contractnet_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWinnerReports(t *testing.T) {
	tests := []struct {
		name    string
		execute func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error)
		status  contractnet.Status
		perf    acl.Performative
		result  string
		reason  string
		event   contractnet.EventKind
	}{
		{name: "inform-done", status: contractnet.Done, perf: acl.Inform, event: contractnet.EventDone,
			execute: func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) { return nil, nil }},
		{name: "inform-result", status: contractnet.Informed, perf: acl.Inform, result: "42 boxes", event: contractnet.EventResult,
			execute: func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
				return []byte("42 boxes"), nil
			}},
		{name: "failure", status: contractnet.Failed, perf: acl.Failure, reason: "truck broke down", event: contractnet.EventFailure,
			execute: func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
				return []byte("ignored"), errors.New("truck broke down")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var gotCFP, gotAccept *acl.Message
			var gotOffer contractnet.Offer
			f.spawn("w", &contractnet.Participant{
				Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
					return contractnet.Offer{Cost: 7, Score: 0.5, Detail: []byte(`{"truck":"T1"}`)}, nil
				},
				Execute: func(ctx context.Context, cfp, acc *acl.Message, o contractnet.Offer) ([]byte, error) {
					gotCFP, gotAccept, gotOffer = cfp, acc, o
					return tt.execute(ctx, cfp, acc, o)
				},
			})
			res, err := f.in.Run(caxtontest.Context(t), f.cfp(time.Minute, "w"))
			require.NoError(t, err)
			require.Len(t, res.Outcomes, 1)
			o := res.Outcomes[0]
			assert.Equal(t, acl.AgentID("w"), o.Participant)
			assert.Equal(t, tt.status, o.Status)
			assert.Equal(t, tt.reason, o.Reason)
			assert.Equal(t, tt.status != contractnet.Failed, o.OK())
			require.NotNil(t, o.Message)
			assert.Equal(t, tt.perf, o.Message.Performative)
			if tt.result == "" {
				assert.Nil(t, o.Result())
			} else {
				assert.Equal(t, tt.result, string(o.Result()))
			}
			assert.Equal(t, res.Winners[0], o.Proposal)
			// What the winner was given to work with.
			assert.Equal(t, "task", string(gotCFP.Content))
			assert.Equal(t, acl.AcceptProposal, gotAccept.Performative)
			assert.Equal(t, o.Proposal.Message.ReplyWith, gotAccept.InReplyTo)
			assert.JSONEq(t, string(o.Proposal.Message.Content), string(gotAccept.Content), "accept carries the proposal")
			assert.Equal(t, contractnet.Offer{Cost: 7, Score: 0.5, Detail: []byte(`{"truck":"T1"}`)}, gotOffer)
			ev := f.ev.await(t, tt.event, "w")
			assert.Equal(t, tt.reason, ev.Reason)
		})
	}
}

func TestSilentWinnerTimesOutAndIsCancelled(t *testing.T) {
	f := newFixture(t)
	f.in.ResultTimeout = 30 * time.Second
	w := f.puppet("w")
	f.bidder("loser", 9)
	m := f.cfp(time.Second, "w", "loser")
	n := f.start(m)
	w.propose(t, w.await(t, acl.CFP), 1)
	acc := w.await(t, acl.AcceptProposal)
	at := f.rt.Clock.Now().Add(30 * time.Second)
	f.parked(at)
	f.rt.Clock.Set(at.Add(-time.Nanosecond))
	select {
	case <-n.Done():
		t.Fatal("ended before the result deadline")
	default:
	}
	f.rt.Clock.Set(at)
	res, err := wait(t, n)
	require.NoError(t, err)
	require.Len(t, res.Outcomes, 1)
	o := res.Outcomes[0]
	assert.Equal(t, contractnet.TimedOut, o.Status)
	assert.Nil(t, o.Message)
	assert.NotEmpty(t, o.Reason)
	assert.False(t, o.OK())
	c := w.await(t, acl.Cancel)
	assert.Equal(t, acc.ConversationID, c.ConversationID)
	assert.Equal(t, o.Reason, string(c.Content))
	f.ev.await(t, contractnet.EventTimeout, "w")
	f.ev.await(t, contractnet.EventCancel, "w")

	// Its answer to the cancel, after the end, is taken quietly.
	w.reply(t, c, acl.Inform, nil)
	f.ev.await(t, contractnet.EventAfterEnd, "w")
	assert.Zero(t, w.count(acl.NotUnderstood))
}

func TestDefaultResultTimeoutIsAMinute(t *testing.T) {
	f := newFixture(t)
	w := f.puppet("w")
	n := f.start(f.cfp(time.Second, "w"))
	w.propose(t, w.await(t, acl.CFP), 1)
	w.await(t, acl.AcceptProposal)
	f.parked(f.rt.Clock.Now().Add(time.Minute))
	f.rt.Clock.Advance(time.Minute)
	res, err := wait(t, n)
	require.NoError(t, err)
	assert.Equal(t, contractnet.TimedOut, res.Outcomes[0].Status)
}

func TestSeveralWinners(t *testing.T) {
	f := newFixture(t)
	f.in.Select = contractnet.LowestCost(4)
	f.bidder("a", 1)
	f.bidder("b", 2)
	f.bidder("dear", 100)
	failing := offering("c", 3)
	failing.Execute = func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
		return nil, errors.New("out of fuel")
	}
	f.spawn("c", failing)
	late := f.puppet("late")
	f.in.ResultTimeout = time.Minute

	m := f.cfp(time.Second, "a", "b", "c", "dear", "late")
	n := f.start(m)
	late.propose(t, late.await(t, acl.CFP), 0)
	for _, who := range ids("a", "b", "c", "dear", "late") {
		f.ev.await(t, contractnet.EventPropose, who)
	}
	late.await(t, acl.AcceptProposal) // the cheapest of all stays silent
	f.ev.awaitN(t, contractnet.EventResult, 2)
	f.ev.await(t, contractnet.EventFailure, "c")
	f.parked(f.rt.Clock.Now().Add(time.Minute))
	f.rt.Clock.Advance(time.Minute)
	res, err := wait(t, n)
	require.NoError(t, err)

	assert.ElementsMatch(t, ids("a", "b", "c", "late"), names(res.Winners))
	byWho := map[acl.AgentID]contractnet.Outcome{}
	for i, o := range res.Outcomes {
		assert.Equal(t, res.Winners[i].From, o.Participant)
		byWho[o.Participant] = o
	}
	assert.Equal(t, contractnet.Informed, byWho["a"].Status)
	assert.Equal(t, contractnet.Informed, byWho["b"].Status)
	assert.Equal(t, contractnet.Failed, byWho["c"].Status)
	assert.Equal(t, "out of fuel", byWho["c"].Reason)
	assert.Equal(t, contractnet.TimedOut, byWho["late"].Status)
	assert.Len(t, res.Succeeded(), 2)
	late.await(t, acl.Cancel)
	assert.Equal(t, 1, late.count(acl.Cancel))
	f.ev.await(t, contractnet.EventReject, "dear")
	assert.Equal(t, 1, f.ev.count(contractnet.EventReject))
}

// A winner that does not understand its accept will never report: the
// outcome fails at once instead of waiting for ResultTimeout.
func TestWinnerNotUnderstandingTheAccept(t *testing.T) {
	f := newFixture(t)
	w := f.puppet("w")
	n := f.start(f.cfp(time.Second, "w"))
	w.propose(t, w.await(t, acl.CFP), 1)
	acc := w.await(t, acl.AcceptProposal)
	w.reply(t, acc, acl.NotUnderstood, []byte("no open proposal"))
	res, err := wait(t, n) // the clock never moves
	require.NoError(t, err)
	o := res.Outcomes[0]
	assert.Equal(t, contractnet.Failed, o.Status)
	assert.Contains(t, o.Reason, "no open proposal")
	assert.Equal(t, acl.NotUnderstood, o.Message.Performative)
	assert.Zero(t, w.count(acl.Cancel))
	f.ev.await(t, contractnet.EventFailure, "w")
}

// A winner or loser that is gone by the decision cannot be told: the
// winner's outcome fails at once, the loser's reject is reported
// unreachable, and nothing waits for ResultTimeout.
func TestParticipantsGoneBeforeTheDecision(t *testing.T) {
	f := newFixture(t)
	w, l := f.puppet("w"), f.puppet("l")
	mute := f.puppet("mute")
	m := f.cfp(time.Second, "w", "l", "mute")
	n := f.start(m)
	w.propose(t, w.await(t, acl.CFP), 1)
	l.propose(t, l.await(t, acl.CFP), 2)
	mute.await(t, acl.CFP)
	f.ev.await(t, contractnet.EventPropose, "w")
	f.ev.await(t, contractnet.EventPropose, "l")
	require.NoError(t, f.rt.Remove(caxtontest.Context(t), "w"))
	require.NoError(t, f.rt.Remove(caxtontest.Context(t), "l"))
	f.expire(m)
	res, err := wait(t, n)
	require.NoError(t, err)
	require.Len(t, res.Outcomes, 1)
	o := res.Outcomes[0]
	assert.Equal(t, acl.AgentID("w"), o.Participant)
	assert.Equal(t, contractnet.Failed, o.Status)
	assert.Contains(t, o.Reason, "accept-proposal could not be sent")
	ev := f.ev.await(t, contractnet.EventUnreachable, "l")
	assert.Equal(t, acl.RejectProposal, ev.Message.Performative)
	assert.Zero(t, f.ev.count(contractnet.EventAccept))
}

func TestClientClosedMidNegotiation(t *testing.T) {
	f := newFixture(t)
	mute := f.puppet("mute")
	n := f.start(f.cfp(time.Minute, "mute"))
	mute.await(t, acl.CFP)
	require.NoError(t, f.cl.Close())
	res, err := wait(t, n)
	require.ErrorIs(t, err, protocol.ErrClosed)
	assert.NotErrorIs(t, err, contractnet.ErrCancelled)
	require.NotNil(t, res)
	assert.Equal(t, ids("mute"), res.Rounds[0].Asked)
	assert.Zero(t, f.ev.count(contractnet.EventCancel), "nothing can be sent any more")
}
