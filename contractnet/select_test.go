package contractnet_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// round builds a round whose proposals arrive in the order given; content
// is the raw propose content.
func round(contents ...[2]string) *contractnet.Round {
	r := &contractnet.Round{Number: 1}
	for _, c := range contents {
		from := acl.AgentID(c[0])
		r.Proposals = append(r.Proposals, contractnet.Proposal{From: from, Round: 1,
			Message: &acl.Message{Performative: acl.Propose, Sender: from, Content: []byte(c[1])}})
	}
	return r
}

func TestBuiltInSelectors(t *testing.T) {
	r := round(
		[2]string{"a", `{"cost":5,"score":0.5}`},
		[2]string{"b", `{"cost":3,"score":0.9}`},
		[2]string{"c", `{"cost":3,"score":0.1}`},
		[2]string{"bad", `{"cots":0}`},
		[2]string{"text", `cheap!`},
		[2]string{"d", `{"cost":9,"score":0.9}`},
	)
	tests := []struct {
		name string
		sel  contractnet.Selector
		want []acl.AgentID
	}{
		{"LowestCost(1), earliest among equals", contractnet.LowestCost(1), ids("b")},
		{"LowestCost(0) means 1", contractnet.LowestCost(0), ids("b")},
		{"LowestCost(3)", contractnet.LowestCost(3), ids("b", "c", "a")},
		{"LowestCost(10), only offers", contractnet.LowestCost(10), ids("b", "c", "a", "d")},
		{"HighestScore(1), earliest among equals", contractnet.HighestScore(1), ids("b")},
		{"HighestScore(-1) means 1", contractnet.HighestScore(-1), ids("b")},
		{"HighestScore(3)", contractnet.HighestScore(3), ids("b", "d", "a")},
		{"FirstN(2), whatever the content", contractnet.FirstN(2), ids("a", "b")},
		{"FirstN(0) means 1", contractnet.FirstN(0), ids("a")},
		{"FirstN(100)", contractnet.FirstN(100), ids("a", "b", "c", "bad", "text", "d")},
		{"None", contractnet.None(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.sel(context.Background(), r)
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.Accept)
			assert.Nil(t, d.Iterate)
		})
	}
	d, err := contractnet.None()(context.Background(), r)
	require.NoError(t, err)
	assert.NotEmpty(t, d.Reason, "None says why")

	onlyJunk := round([2]string{"x", `{"cost":"free"}`}, [2]string{"y", `null`})
	for _, sel := range []contractnet.Selector{contractnet.LowestCost(1), contractnet.HighestScore(1)} {
		d, err := sel(context.Background(), onlyJunk)
		require.NoError(t, err)
		assert.Empty(t, d.Accept, "no offer, no winner")
	}
}

// bidders spawns a (cost 3), b (cost 1) and c (cost 2), each counting the
// rejections it gets.
func bidders(f *fixture) map[acl.AgentID]*atomic.Int32 {
	rejected := map[acl.AgentID]*atomic.Int32{}
	for name, cost := range map[acl.AgentID]float64{"a": 3, "b": 1, "c": 2} {
		n := &atomic.Int32{}
		rejected[name] = n
		p := offering(name, cost)
		p.Rejected = func(context.Context, *acl.Message, contractnet.Offer) { n.Add(1) }
		f.spawn(name, p)
	}
	return rejected
}

func TestCustomSelector(t *testing.T) {
	f := newFixture(t)
	rejected := bidders(f)
	var seen *contractnet.Round
	f.in.Select = func(ctx context.Context, r *contractnet.Round) (contractnet.Decision, error) {
		seen = r
		assert.NoError(t, ctx.Err())
		return contractnet.Decision{Accept: ids("c", "a"), Reason: "b is too cheap to be true"}, nil
	}
	res, err := f.in.Run(caxtontest.Context(t), f.cfp(time.Minute, "a", "b", "c"))
	require.NoError(t, err)
	require.Same(t, res.Rounds[0], seen)
	assert.ElementsMatch(t, ids("a", "b", "c"), names(seen.Proposals))
	assert.Equal(t, ids("c", "a"), res.Rounds[0].Decision.Accept)
	assert.ElementsMatch(t, ids("a", "c"), names(res.Winners))
	require.Len(t, res.Outcomes, 2)
	for i, o := range res.Outcomes {
		assert.Equal(t, res.Winners[i].From, o.Participant, "outcomes follow winners")
		assert.Equal(t, contractnet.Informed, o.Status)
		assert.Equal(t, string(o.Participant)+" did task", string(o.Result()))
		assert.True(t, o.OK())
	}
	assert.Len(t, res.Succeeded(), 2)
	f.processed("b", 2) // the call, then the rejection
	assert.EqualValues(t, 1, rejected["b"].Load())
	assert.Zero(t, rejected["a"].Load()+rejected["c"].Load())
	ev := f.ev.await(t, contractnet.EventReject, "b")
	assert.Equal(t, "b is too cheap to be true", ev.Reason)
}

func TestNoneRejectsEveryone(t *testing.T) {
	f := newFixture(t)
	rejected := bidders(f)
	f.in.Select = contractnet.None()
	res, err := f.in.Run(caxtontest.Context(t), f.cfp(time.Minute, "a", "b", "c"))
	require.NoError(t, err)
	assert.Len(t, res.Rounds[0].Proposals, 3)
	assert.Empty(t, res.Winners)
	assert.Empty(t, res.Outcomes)
	for name, n := range rejected {
		f.processed(name, 2)
		assert.EqualValues(t, 1, n.Load(), name)
	}
}

// A selector that fails, panics or decides something impossible ends the
// negotiation with ErrSelection, and every proposer is rejected.
func TestSelectionFailure(t *testing.T) {
	boom := errors.New("boom")
	decide := func(d contractnet.Decision) contractnet.Selector {
		return func(context.Context, *contractnet.Round) (contractnet.Decision, error) { return d, nil }
	}
	tests := []struct {
		name string
		sel  contractnet.Selector
		is   error
		msg  string
	}{
		{name: "error", sel: func(context.Context, *contractnet.Round) (contractnet.Decision, error) {
			return contractnet.Decision{Accept: ids("b")}, boom
		}, is: boom},
		{name: "panic", sel: func(context.Context, *contractnet.Round) (contractnet.Decision, error) { panic("oops") }, msg: "oops"},
		{name: "accepts a stranger", sel: decide(contractnet.Decision{Accept: ids("b", "zed")}), msg: `"zed"`},
		{name: "accepts one twice", sel: decide(contractnet.Decision{Accept: ids("b", "b")}), msg: "twice"},
		{name: "accept and iterate", sel: decide(contractnet.Decision{Accept: ids("b"), Iterate: &contractnet.Iteration{To: ids("a")}}), msg: "both"},
		{name: "iterate to no one", sel: decide(contractnet.Decision{Iterate: &contractnet.Iteration{}}), msg: "empty"},
		{name: "iterate to a stranger", sel: decide(contractnet.Decision{Iterate: &contractnet.Iteration{To: ids("a", "zed")}}), msg: `"zed"`},
		{name: "iterate to one twice", sel: decide(contractnet.Decision{Iterate: &contractnet.Iteration{To: ids("a", "a")}}), msg: "twice"},
		{name: "iterate with a past deadline", sel: func(context.Context, *contractnet.Round) (contractnet.Decision, error) {
			return contractnet.Decision{Iterate: &contractnet.Iteration{To: ids("a"), ReplyBy: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}}, nil
		}, msg: "ReplyBy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rejected := bidders(f)
			f.in.Select = tt.sel
			res, err := f.in.Run(caxtontest.Context(t), f.cfp(time.Minute, "a", "b", "c"))
			require.ErrorIs(t, err, contractnet.ErrSelection)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			assert.ErrorContains(t, err, tt.msg)
			require.NotNil(t, res)
			assert.Len(t, res.Rounds, 1)
			assert.Len(t, res.Rounds[0].Proposals, 3)
			assert.Empty(t, res.Winners)
			for name, n := range rejected {
				f.processed(name, 2)
				assert.EqualValues(t, 1, n.Load(), "%s is rejected", name)
				ev := f.ev.await(t, contractnet.EventReject, name)
				assert.Equal(t, "selection failed", ev.Reason)
			}
			assert.Zero(t, f.ev.count(contractnet.EventAccept))
		})
	}
}

// The built-in selectors, end to end: each picks its winner from real
// proposals.
func TestSelectorsEndToEnd(t *testing.T) {
	offers := map[acl.AgentID]contractnet.Offer{"cheap": {Cost: 1, Score: 0.2}, "good": {Cost: 5, Score: 0.9}, "meh": {Cost: 3, Score: 0.5}}
	tests := []struct {
		name string
		sel  contractnet.Selector
		want func(*contractnet.Result) []acl.AgentID
	}{
		{"default", nil, func(*contractnet.Result) []acl.AgentID { return ids("cheap") }},
		{"LowestCost(2)", contractnet.LowestCost(2), func(*contractnet.Result) []acl.AgentID { return ids("cheap", "meh") }},
		{"HighestScore(1)", contractnet.HighestScore(1), func(*contractnet.Result) []acl.AgentID { return ids("good") }},
		{"FirstN(1)", contractnet.FirstN(1), func(res *contractnet.Result) []acl.AgentID {
			return names(res.Rounds[0].Proposals[:1]) // whoever was first
		}},
		{"None", contractnet.None(), func(*contractnet.Result) []acl.AgentID { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			for name, o := range offers {
				p := offering(name, 0)
				p.Bid = func(context.Context, *acl.Message) (contractnet.Offer, error) { return o, nil }
				f.spawn(name, p)
			}
			f.in.Select = tt.sel
			res, err := f.in.Run(caxtontest.Context(t), f.cfp(time.Minute, "cheap", "good", "meh"))
			require.NoError(t, err)
			want := tt.want(res)
			assert.ElementsMatch(t, want, names(res.Winners))
			assert.Len(t, res.Succeeded(), len(want))
			assert.Equal(t, 3-len(want), f.ev.count(contractnet.EventReject))
		})
	}
}
