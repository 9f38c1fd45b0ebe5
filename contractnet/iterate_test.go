package contractnet_test

import (
	"context"
	"strconv"
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

// haggler bids base in the first round and base minus the round number
// after; in a round whose call says "refuse" it refuses. It remembers the
// rejections and executions it sees.
type haggler struct {
	mu       sync.Mutex
	rejected []string
	executed []string
	p        *contractnet.Participant
}

func (f *fixture) haggler(name acl.AgentID, base float64) *haggler {
	h := &haggler{}
	h.p = &contractnet.Participant{
		Bid: func(_ context.Context, cfp *acl.Message) (contractnet.Offer, error) {
			switch c := string(cfp.Content); c {
			case "task":
				return contractnet.Offer{Cost: base}, nil
			case "refuse":
				return contractnet.Offer{}, protocol.Refuse("not again")
			default:
				n, err := strconv.Atoi(c)
				if err != nil {
					return contractnet.Offer{}, protocol.NotUnderstood(c)
				}
				return contractnet.Offer{Cost: base - float64(n)}, nil
			}
		},
		Execute: func(_ context.Context, cfp, _ *acl.Message, o contractnet.Offer) ([]byte, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.executed = append(h.executed, string(cfp.Content)+"@"+strconv.FormatFloat(o.Cost, 'f', -1, 64))
			return nil, nil
		},
		Rejected: func(_ context.Context, rj *acl.Message, o contractnet.Offer) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.rejected = append(h.rejected, string(rj.Content))
		},
	}
	f.spawn(name, h.p)
	return h
}

func (h *haggler) seen() (rejected, executed []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.rejected...), append([]string(nil), h.executed...)
}

// iterateOnce iterates round 1 to the two cheapest with content "2" (and
// deadline replyBy), then decides later rounds with then.
func iterateOnce(replyBy time.Time, then contractnet.Selector) contractnet.Selector {
	return func(ctx context.Context, r *contractnet.Round) (contractnet.Decision, error) {
		if r.Number > 1 {
			return then(ctx, r)
		}
		d, err := contractnet.LowestCost(2)(ctx, r)
		return contractnet.Decision{Iterate: &contractnet.Iteration{To: d.Accept, Content: []byte("2"), ReplyBy: replyBy},
			Reason: "you are out of the race"}, err
	}
}

func TestIteratedEndsOnAcceptance(t *testing.T) {
	f := newFixture(t)
	a, b, c := f.haggler("a", 10), f.haggler("b", 11), f.haggler("c", 12)
	f.in.Select = iterateOnce(time.Time{}, contractnet.LowestCost(1))
	m := f.cfp(5*time.Second, "c", "b", "a")
	start := f.rt.Clock.Now()
	res, err := f.in.Run(caxtontest.Context(t), m)
	require.NoError(t, err)

	require.Len(t, res.Rounds, 2)
	r1, r2 := res.Rounds[0], res.Rounds[1]
	assert.Equal(t, ids("c", "b", "a"), r1.Asked)
	require.NotNil(t, r1.Decision.Iterate)
	assert.ElementsMatch(t, ids("a", "b"), r1.Decision.Iterate.To)
	assert.Equal(t, 2, r2.Number)
	assert.ElementsMatch(t, ids("a", "b"), r2.Asked)
	assert.Equal(t, "2", string(r2.CFP.Content))
	assert.Equal(t, r1.CFP.ConversationID, r2.CFP.ConversationID)
	assert.NotEqual(t, r1.CFP.ReplyWith, r2.CFP.ReplyWith)
	assert.Equal(t, start.Add(5*time.Second), r2.Deadline, "a zero ReplyBy gives the first round's length again")
	for _, p := range r2.Proposals {
		assert.Equal(t, 2, p.Round)
	}

	require.Len(t, res.Winners, 1)
	assert.Equal(t, acl.AgentID("a"), res.Winners[0].From)
	assert.Equal(t, 2, res.Winners[0].Round)
	assert.Equal(t, contractnet.Done, res.Outcomes[0].Status)
	_, executed := a.seen()
	assert.Equal(t, []string{"2@8"}, executed, "a executes the task of round 2 at its round-2 price")

	f.processed("c", 2)
	rejected, _ := c.seen()
	assert.Equal(t, []string{"you are out of the race"}, rejected)
	f.processed("b", 3) // two calls and one rejection
	rejected, executed = b.seen()
	assert.Equal(t, []string{"another proposal was chosen"}, rejected)
	assert.Empty(t, executed)
	for _, h := range []*haggler{a, b, c} {
		assert.Zero(t, h.p.Open(), "no proposal left open")
	}
	iter := f.ev.await(t, contractnet.EventIterate, "")
	assert.Equal(t, 2, iter.Round)
}

func TestIteratedEndsOnRejectingEveryone(t *testing.T) {
	f := newFixture(t)
	a, b := f.haggler("a", 10), f.haggler("b", 11)
	f.haggler("c", 12)
	second := f.rt.Clock.Now().Add(time.Hour)
	f.in.Select = iterateOnce(second, func(context.Context, *contractnet.Round) (contractnet.Decision, error) {
		return contractnet.Decision{Reason: "too expensive, all of you"}, nil
	})
	res, err := f.in.Run(caxtontest.Context(t), f.cfp(5*time.Second, "a", "b", "c"))
	require.NoError(t, err)
	require.Len(t, res.Rounds, 2)
	assert.Equal(t, second, res.Rounds[1].Deadline)
	assert.Len(t, res.Rounds[1].Proposals, 2)
	assert.Empty(t, res.Winners)
	for _, name := range ids("a", "b") {
		f.processed(name, 3)
	}
	for _, h := range []*haggler{a, b} {
		rejected, executed := h.seen()
		assert.Equal(t, []string{"too expensive, all of you"}, rejected)
		assert.Empty(t, executed)
		assert.Zero(t, h.p.Open())
	}
}

func TestIteratedEndsWhenNoOneBids(t *testing.T) {
	f := newFixture(t)
	a, b := f.haggler("a", 10), f.haggler("b", 11)
	f.haggler("c", 12)
	f.in.Select = func(ctx context.Context, r *contractnet.Round) (contractnet.Decision, error) {
		d, err := contractnet.LowestCost(2)(ctx, r)
		return contractnet.Decision{Iterate: &contractnet.Iteration{To: d.Accept, Content: []byte("refuse")}}, err
	}
	res, err := f.in.Run(caxtontest.Context(t), f.cfp(5*time.Second, "a", "b", "c"))
	require.NoError(t, err)
	require.Len(t, res.Rounds, 2)
	r2 := res.Rounds[1]
	assert.Empty(t, r2.Proposals)
	assert.Equal(t, map[acl.AgentID]string{"a": "not again", "b": "not again"}, r2.Refused)
	assert.Empty(t, res.Winners)
	for _, h := range []*haggler{a, b} {
		assert.Zero(t, h.p.Open(), "a refusal withdraws the earlier proposal")
	}
}

// A round-one proposal that arrives while round two is open is late.
func TestIteratedLateProposalOfAnEarlierRound(t *testing.T) {
	f := newFixture(t)
	f.haggler("a", 10)
	slow, quiet := f.puppet("slow"), f.puppet("quiet")
	f.in.Select = iterateOnce(time.Time{}, contractnet.LowestCost(1))
	m := f.cfp(time.Second, "a", "slow", "quiet")
	n := f.start(m)
	cfp1 := slow.await(t, acl.CFP)
	quiet.propose(t, quiet.await(t, acl.CFP), 20)
	f.ev.await(t, contractnet.EventPropose, "a")
	f.ev.await(t, contractnet.EventPropose, "quiet")
	f.expire(m)
	quiet.awaitNth(t, acl.CFP, 2) // round two is open: quiet stays silent
	slow.propose(t, cfp1, 1)
	rej := slow.await(t, acl.RejectProposal)
	assert.Contains(t, string(rej.Content), "late")
	f.ev.await(t, contractnet.EventLate, "slow")

	f.parked(m.ReplyBy.Add(time.Second))
	f.rt.Clock.Advance(time.Second)
	res, err := wait(t, n)
	require.NoError(t, err)
	assert.Equal(t, ids("slow"), names(res.Late))
	assert.Equal(t, ids("slow"), names(res.Rounds[0].Late))
	assert.Empty(t, res.Rounds[1].Late)
	assert.Equal(t, ids("quiet"), res.Rounds[1].Silent)
	assert.Equal(t, ids("a"), names(res.Winners))
	assert.Equal(t, 1, slow.count(acl.CFP), "slow never made round two")
}
