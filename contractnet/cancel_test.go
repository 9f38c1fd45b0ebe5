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

// cancellable spawns a bidder whose Cancelled callback answers err.
func (f *fixture) cancellable(name acl.AgentID, cost float64, err error) {
	p := offering(name, cost)
	p.Cancelled = func(context.Context, *acl.Message, contractnet.Offer) error { return err }
	f.spawn(name, p)
}

func TestCancelDuringPhaseOne(t *testing.T) {
	f := newFixture(t)
	f.in.CancelTimeout = 5 * time.Second
	f.cancellable("agrees", 1, nil)
	f.cancellable("objects", 2, errors.New("already loading"))
	f.refuser("busy", "no")
	f.spawn("confused", &contractnet.Participant{Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
		return contractnet.Offer{}, protocol.NotUnderstood("") // without a reason
	}})
	mute := f.puppet("mute")
	m := f.cfp(time.Minute, "agrees", "objects", "busy", "confused", "mute")
	n := f.start(m)
	for _, who := range ids("agrees", "objects") {
		f.ev.await(t, contractnet.EventPropose, who)
	}
	f.ev.await(t, contractnet.EventRefuse, "busy")
	f.ev.await(t, contractnet.EventNotUnderstood, "confused")
	mute.await(t, acl.CFP)
	f.parked(m.ReplyBy)

	n.Cancel("the shipment was called off")
	f.ev.await(t, contractnet.EventCancelAck, "agrees")
	f.ev.await(t, contractnet.EventCancelAck, "objects")
	c := mute.await(t, acl.Cancel)
	assert.Equal(t, "the shipment was called off", string(c.Content))
	assert.Equal(t, n.ConversationID(), c.ConversationID)
	f.parked(f.rt.Clock.Now().Add(5 * time.Second)) // mute never answers
	f.rt.Clock.Advance(5 * time.Second)
	res, err := wait(t, n)

	require.ErrorIs(t, err, contractnet.ErrCancelled)
	assert.ErrorContains(t, err, "the shipment was called off")
	require.NotNil(t, res)
	assert.Len(t, res.Rounds[0].Proposals, 2)
	assert.Empty(t, res.Winners)
	require.Len(t, res.CancelAcks, 2)
	assert.Equal(t, acl.Inform, res.CancelAcks["agrees"].Performative)
	assert.Empty(t, res.CancelAcks["agrees"].Content)
	assert.Equal(t, acl.Failure, res.CancelAcks["objects"].Performative)
	assert.Equal(t, "already loading", string(res.CancelAcks["objects"].Content))
	var cancelled []acl.AgentID
	for _, ev := range f.ev.all() {
		if ev.Kind == contractnet.EventCancel {
			cancelled = append(cancelled, ev.Participant)
		}
	}
	assert.ElementsMatch(t, ids("agrees", "objects", "mute"), cancelled, "only those still in play")
	assert.Zero(t, f.ev.count(contractnet.EventReject), "cancel replaces reject")
	assert.Zero(t, f.ev.count(contractnet.EventAccept))

	n.Cancel("again") // after the end: nothing happens
	res2, err2 := n.Wait()
	assert.Same(t, res, res2)
	assert.Equal(t, err, err2)
}

func TestCancelDuringPhaseTwo(t *testing.T) {
	f := newFixture(t)
	w := f.puppet("w")
	f.bidder("loser", 5)
	m := f.cfp(time.Second, "w", "loser")
	n := f.start(m)
	w.propose(t, w.await(t, acl.CFP), 1)
	w.await(t, acl.AcceptProposal)
	f.ev.await(t, contractnet.EventReject, "loser")

	n.Cancel("")
	c := w.await(t, acl.Cancel)
	assert.Equal(t, "cancelled by the initiator", string(c.Content), "the default reason")
	w.reply(t, c, acl.Inform, nil)
	res, err := wait(t, n) // everyone answered: no need to wait for CancelTimeout
	require.ErrorIs(t, err, contractnet.ErrCancelled)
	require.Len(t, res.Outcomes, 1)
	o := res.Outcomes[0]
	assert.Equal(t, contractnet.Cancelled, o.Status)
	assert.Equal(t, "cancelled by the initiator", o.Reason)
	assert.Equal(t, acl.Inform, res.CancelAcks["w"].Performative)
	assert.NotContains(t, res.CancelAcks, acl.AgentID("loser"), "a rejected proposer is out of play")
}

func TestDefaultCancelTimeoutIsTenSeconds(t *testing.T) {
	f := newFixture(t)
	mute := f.puppet("mute")
	n := f.start(f.cfp(time.Minute, "mute"))
	mute.await(t, acl.CFP)
	n.Cancel("stop")
	mute.await(t, acl.Cancel)
	f.parked(f.rt.Clock.Now().Add(10 * time.Second))
	f.rt.Clock.Advance(10 * time.Second)
	res, err := wait(t, n)
	require.ErrorIs(t, err, contractnet.ErrCancelled)
	assert.Empty(t, res.CancelAcks)
}

// A proposal that crosses the initiator's cancel is neither accepted nor
// rejected: the cancel already covers it, and a reject would only earn a
// not-understood from a participant that has dropped its bid.
func TestProposalCrossingTheCancelIsCoveredByIt(t *testing.T) {
	f := newFixture(t)
	slow := f.puppet("slow")
	n := f.start(f.cfp(time.Minute, "slow"))
	cfp := slow.await(t, acl.CFP)
	n.Cancel("stop")
	c := slow.await(t, acl.Cancel)
	slow.propose(t, cfp, 1)
	slow.reply(t, c, acl.Failure, []byte("nothing to cancel"))
	res, err := wait(t, n)
	require.ErrorIs(t, err, contractnet.ErrCancelled)
	assert.Equal(t, acl.Failure, res.CancelAcks["slow"].Performative)
	assert.Empty(t, res.Violations)
	for _, m := range slow.received() {
		assert.NotEqual(t, acl.RejectProposal, m.Performative)
		assert.NotEqual(t, acl.AcceptProposal, m.Performative)
	}
}

func TestContextCancellation(t *testing.T) {
	t.Run("phase one", func(t *testing.T) {
		f := newFixture(t)
		f.bidder("eager", 1)
		mute := f.puppet("mute")
		ctx, cancel := context.WithCancel(caxtontest.Context(t))
		m := f.cfp(time.Hour, "eager", "mute")
		n, err := f.in.Start(ctx, m)
		require.NoError(t, err)
		f.ev.await(t, contractnet.EventPropose, "eager")
		mute.await(t, acl.CFP)
		cancel()
		res, err := wait(t, n) // promptly: the clock never moves
		require.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, contractnet.ErrCancelled)
		assert.Len(t, res.Rounds[0].Proposals, 1)
		c := mute.await(t, acl.Cancel)
		assert.Contains(t, string(c.Content), "gave up")
		f.processed("eager", 2) // the call and the cancel
		f.ev.await(t, contractnet.EventCancel, "eager")
		assert.Equal(t, m.ReplyBy, f.rt.Clock.Now().Add(time.Hour))
	})
	t.Run("phase two", func(t *testing.T) {
		f := newFixture(t)
		w := f.puppet("w")
		ctx, cancel := context.WithTimeout(caxtontest.Context(t), time.Hour) // real time: never reached
		defer cancel()
		n, err := f.in.Start(ctx, f.cfp(time.Second, "w"))
		require.NoError(t, err)
		w.propose(t, w.await(t, acl.CFP), 1)
		w.await(t, acl.AcceptProposal)
		cancel()
		res, err := wait(t, n)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, contractnet.Cancelled, res.Outcomes[0].Status)
		w.await(t, acl.Cancel)
	})
	t.Run("already done", func(t *testing.T) {
		f := newFixture(t)
		f.puppet("a")
		f.puppet("b")
		ctx, cancel := context.WithCancel(caxtontest.Context(t))
		cancel()
		n, err := f.in.Start(ctx, f.cfp(time.Second, "a", "b"))
		require.NoError(t, err)
		res, err := wait(t, n)
		require.ErrorIs(t, err, context.Canceled)
		require.Len(t, res.Rounds, 1)
		assert.Empty(t, res.Rounds[0].Asked, "no call went out")
		assert.Zero(t, f.ev.count(contractnet.EventCancel), "so nobody is sent a cancel")
		for _, who := range ids("a", "b") { // what was sent is queued by now
			info, err := f.rt.Agent(who)
			require.NoError(t, err)
			assert.Zero(t, info.Processed+uint64(info.QueueDepth+info.InFlight), "%s got nothing", who)
		}
	})
}
