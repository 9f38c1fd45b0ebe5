package contractnet

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
)

// Participant is the responder side of Contract Net, with a typed callback
// per step; the helper does the protocol: it answers the call with propose
// or refuse, remembers what it proposed, runs Execute on acceptance and
// reports inform or failure, and answers cancel. It is a protocol.Responder:
// make it an agent's handler with caxton.ProtocolHandler, or a wasm
// agent's with guest.Respond — the same code runs in both.
//
// A Participant is safe for concurrent use: replicas may share one, and so
// may several agents when their Conn tells who is answering (it has a
// Self() acl.AgentID method, as *caxton.MessageContext does); otherwise
// give each agent its own. Its memory of open proposals is bounded by
// Memory and MaxOpen.
type Participant struct {
	// Bid answers a call for proposals with an offer (sent as propose), or
	// an error: protocol.Refuse(reason) refuses, protocol.NotUnderstood(reason)
	// answers not-understood, and any other error is the handler's error,
	// so the runtime retries the call. Required.
	Bid func(ctx context.Context, cfp *acl.Message) (Offer, error)
	// Execute does the task when the proposal is accepted; it gets the call
	// it bid on (the task), the accept, and its offer. A nil error reports
	// success: inform with the result as content (an empty result is
	// inform-done). An error reports failure with its text (unless ctx has
	// ended: then the accept is retried). Delivery is at-least-once: if the
	// report cannot be sent, the redelivered accept runs Execute again, so
	// make it idempotent (accept.ID identifies the accept). Required.
	Execute func(ctx context.Context, cfp, accept *acl.Message, offer Offer) ([]byte, error)
	// Rejected, if set, is told when the proposal is rejected, to release
	// what the bid reserved.
	Rejected func(ctx context.Context, reject *acl.Message, offer Offer)
	// Cancelled, if set, is told when the initiator cancels before
	// accepting or rejecting. Its error is reported as failure; nil as
	// inform-done.
	Cancelled func(ctx context.Context, cancel *acl.Message, offer Offer) error
	// Memory is how long past its call's reply-by a proposal waits for
	// accept or reject before it is forgotten (default one hour).
	Memory time.Duration
	// MaxOpen bounds the proposals remembered at once (default 10000); the
	// oldest is forgotten first.
	MaxOpen int

	mu    sync.Mutex
	open  map[openKey]*openBid
	order []orderEntry // insertion order, for MaxOpen
	seq   uint64       // the last orderEntry.seq given
	sweep time.Time    // next time expired bids are looked for
}

// orderEntry places a bid in the insertion order; it is stale once its
// bid is taken, even if a later bid reuses the key.
type orderEntry struct {
	key openKey
	seq uint64
}

type openKey struct {
	self      acl.AgentID // the bidding agent, when the Conn tells (see Respond)
	conv      string
	initiator acl.AgentID
}

type openBid struct {
	seq     uint64
	cfp     *acl.Message
	offer   Offer
	expires time.Time
}

// Open returns how many proposals await an answer.
func (p *Participant) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.open)
}

// Respond implements protocol.Responder.
func (p *Participant) Respond(ctx context.Context, m *acl.Message, c protocol.Conn) error {
	key := openKey{conv: m.ConversationID, initiator: m.Sender}
	if s, ok := c.(interface{ Self() acl.AgentID }); ok {
		key.self = s.Self() // several agents may share one Participant
	}
	switch m.Performative {
	case acl.CFP:
		return p.bid(ctx, m, c, key)
	case acl.AcceptProposal:
		// The bid is forgotten only once the report is sent: if the handler
		// fails first (a panic, a failed send, a wasm batch that fails), the
		// redelivered accept finds it and runs Execute again — at least once,
		// never "not understood" for work that was accepted.
		b, ok := p.peek(key, c.Now())
		if !ok {
			return protocol.ReplyNotUnderstood(ctx, c, m, "no open proposal in this conversation")
		}
		if p.Execute == nil {
			p.forget(key, b)
			return protocol.ReplyReason(ctx, c, m, acl.Failure, "this participant cannot execute")
		}
		result, err := p.Execute(ctx, b.cfp, m, b.offer)
		if err != nil && ctx.Err() != nil {
			return err // shutting down: the accept is retried, not failed
		}
		if err != nil {
			err = protocol.ReplyReason(ctx, c, m, acl.Failure, err.Error())
		} else {
			err = protocol.Reply(ctx, c, m, acl.Inform, result)
		}
		if err != nil {
			return err
		}
		p.forget(key, b)
		return nil
	case acl.RejectProposal:
		b, ok := p.take(key, c.Now())
		if !ok {
			return nil // nothing to release: a reject crossing our cancel or an expired bid
		}
		if p.Rejected != nil {
			p.Rejected(ctx, m, b.offer)
		}
		return nil
	case acl.Cancel:
		b, ok := p.take(key, c.Now())
		if !ok {
			return protocol.ReplyReason(ctx, c, m, acl.Failure, "no open proposal in this conversation")
		}
		if p.Cancelled != nil {
			if err := p.Cancelled(ctx, m, b.offer); err != nil {
				return protocol.ReplyReason(ctx, c, m, acl.Failure, err.Error())
			}
		}
		return protocol.Reply(ctx, c, m, acl.Inform, nil)
	default:
		return protocol.ReplyNotUnderstood(ctx, c, m, m.Performative.String()+" is not part of contract net for a participant")
	}
}

func (p *Participant) bid(ctx context.Context, m *acl.Message, c protocol.Conn, key openKey) error {
	if p.Bid == nil {
		return protocol.ReplyNotUnderstood(ctx, c, m, "this participant does not bid")
	}
	offer, err := p.Bid(ctx, m)
	var refusal *protocol.Refusal
	var mis *protocol.Misunderstanding
	switch {
	case errors.As(err, &refusal):
		p.take(key, c.Now()) // a refusal in a later round withdraws the earlier bid
		return protocol.ReplyReason(ctx, c, m, acl.Refuse, refusal.Reason)
	case errors.As(err, &mis):
		p.take(key, c.Now())
		return protocol.ReplyNotUnderstood(ctx, c, m, mis.Reason)
	case err != nil:
		return err
	}
	content, err := offer.Encode()
	if err != nil {
		p.take(key, c.Now())
		return protocol.ReplyReason(ctx, c, m, acl.Refuse, err.Error())
	}
	now := c.Now()
	memory := p.Memory
	if memory <= 0 {
		memory = time.Hour
	}
	expires := m.ReplyBy
	if expires.Before(now) {
		expires = now
	}
	p.remember(key, &openBid{cfp: m, offer: offer, expires: expires.Add(memory)}, now)
	r := m.CreateReplyWith(acl.Propose, "")
	r.Content, r.Language, r.Encoding = content, "json", ""
	if err := c.Send(ctx, r); err != nil {
		p.take(key, now)
		return err
	}
	return nil
}

func (p *Participant) remember(key openKey, b *openBid, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == nil {
		p.open = map[openKey]*openBid{}
	}
	if old, again := p.open[key]; again {
		b.seq = old.seq // a new round of an iterated call replaces the old bid, in its place
	} else {
		p.seq++
		b.seq = p.seq
		p.order = append(p.order, orderEntry{key, b.seq})
	}
	p.open[key] = b
	limit := p.MaxOpen
	if limit <= 0 {
		limit = 10000
	}
	// Sweeping is O(open bids): do it when over the limit, when taken bids
	// dominate the order list, or once a minute — not on every bid.
	if len(p.open) > limit || len(p.order) > 2*len(p.open)+64 || !now.Before(p.sweep) {
		p.sweepLocked(now, limit)
		p.sweep = now.Add(time.Minute)
	}
}

// sweepLocked forgets expired bids and, past limit, the oldest.
func (p *Participant) sweepLocked(now time.Time, limit int) {
	keep := p.order[:0]
	for _, e := range p.order {
		b, ok := p.open[e.key]
		switch {
		case !ok || b.seq != e.seq: // taken (and perhaps bid again since)
		case now.After(b.expires) || len(p.open) > limit: // the oldest go first
			delete(p.open, e.key)
		default:
			keep = append(keep, e)
		}
	}
	clear(p.order[len(keep):])
	p.order = keep
}

// peek returns the open bid for key without forgetting it.
func (p *Participant) peek(key openKey, now time.Time) (*openBid, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.open[key]
	if !ok || now.After(b.expires) {
		return nil, false
	}
	return b, true
}

// forget drops key's bid if it is still b (a re-bid may have replaced it).
func (p *Participant) forget(key openKey, b *openBid) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open[key] == b {
		delete(p.open, key)
	}
}

func (p *Participant) take(key openKey, now time.Time) (*openBid, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.open[key]
	if !ok {
		return nil, false
	}
	delete(p.open, key)
	if now.After(b.expires) {
		return nil, false
	}
	return b, true
}
