package contractnet

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// Selector chooses among a round's proposals: accept some (possibly none)
// or start another round with a subset (iterated Contract Net). It runs on
// the negotiation's goroutine once the round's deadline passed or everyone
// answered; r.Proposals are in arrival order.
type Selector func(ctx context.Context, r *Round) (Decision, error)

// Decision is a Selector's choice. Set Accept, or Iterate, not both; an
// empty Decision rejects every proposal.
type Decision struct {
	// Accept names the winners; each must have proposed in this round.
	Accept []acl.AgentID
	// Iterate calls for proposals again, from some of this round's
	// proposers (the others are rejected).
	Iterate *Iteration
	// Reason is sent with reject-proposal to the proposers not chosen
	// (default "another proposal was chosen").
	Reason string
}

// Iteration is a new call for proposals within the same conversation.
type Iteration struct {
	// To are the proposers asked again.
	To []acl.AgentID
	// Content is the new call's content; nil repeats the previous call's.
	Content []byte
	// ReplyBy is the new deadline; zero gives the round as long as the
	// first round had, counted from now.
	ReplyBy time.Time
}

// check validates d against the round's proposers.
func (d Decision) check(r *Round) error {
	proposed := make(map[acl.AgentID]bool, len(r.Proposals))
	for _, p := range r.Proposals {
		proposed[p.From] = true
	}
	names, field := d.Accept, "Accept"
	if d.Iterate != nil {
		if len(d.Accept) > 0 {
			return fmt.Errorf("contractnet: decision sets both Accept and Iterate")
		}
		if len(d.Iterate.To) == 0 {
			return fmt.Errorf("contractnet: decision Iterate.To is empty (to reject everyone, accept no one)")
		}
		names, field = d.Iterate.To, "Iterate.To"
	}
	seen := make(map[acl.AgentID]bool, len(names))
	for _, n := range names {
		if !proposed[n] {
			return fmt.Errorf("contractnet: decision %s names %q, which did not propose in round %d", field, n, r.Number)
		}
		if seen[n] {
			return fmt.Errorf("contractnet: decision %s names %q twice", field, n)
		}
		seen[n] = true
	}
	return nil
}

// LowestCost accepts the n cheapest offers (n < 1 means 1), earliest first
// among equal costs. Proposals whose content is not an Offer never win.
func LowestCost(n int) Selector {
	return byOffer(n, func(a, b Offer) int { return cmp.Compare(a.Cost, b.Cost) })
}

// HighestScore accepts the n best-scored offers (n < 1 means 1), earliest
// first among equal scores. Proposals whose content is not an Offer never
// win.
func HighestScore(n int) Selector {
	return byOffer(n, func(a, b Offer) int { return cmp.Compare(b.Score, a.Score) })
}

func byOffer(n int, order func(a, b Offer) int) Selector {
	n = max(n, 1)
	return func(_ context.Context, r *Round) (Decision, error) {
		type valued struct {
			from  acl.AgentID
			offer Offer
		}
		var vs []valued
		for _, p := range r.Proposals {
			if o, err := p.Offer(); err == nil {
				vs = append(vs, valued{p.From, o})
			}
		}
		slices.SortStableFunc(vs, func(a, b valued) int { return order(a.offer, b.offer) })
		var d Decision
		for _, v := range vs[:min(n, len(vs))] {
			d.Accept = append(d.Accept, v.from)
		}
		return d, nil
	}
}

// FirstN accepts the first n proposals to arrive (n < 1 means 1), whatever
// their content.
func FirstN(n int) Selector {
	n = max(n, 1)
	return func(_ context.Context, r *Round) (Decision, error) {
		var d Decision
		for _, p := range r.Proposals[:min(n, len(r.Proposals))] {
			d.Accept = append(d.Accept, p.From)
		}
		return d, nil
	}
}

// None accepts no proposal: every bidder is rejected. It suits a price
// survey, where the bids are the result.
func None() Selector {
	return func(context.Context, *Round) (Decision, error) {
		return Decision{Reason: "no proposal is accepted"}, nil
	}
}
