package contractnet

import (
	"errors"
	"slices"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
)

// call sends the round's call for proposals to each participant.
func (n *Negotiation) call(cfp *acl.Message, to []acl.AgentID, number int) *Round {
	r := &Round{Number: number, Deadline: cfp.ReplyBy,
		Refused: map[acl.AgentID]string{}, NotUnderstood: map[acl.AgentID]string{}, Unreachable: map[acl.AgentID]string{}}
	n.res.Rounds = append(n.res.Rounds, r)
	n.rounds[number] = r
	n.answered = make(map[acl.AgentID]bool, len(to))
	for _, p := range to {
		m := cfp.Clone()
		m.Receivers = []acl.AgentID{p}
		m.ReplyWith = ""
		if err := n.conv.Send(n.ctx, m); err != nil {
			if n.ctx.Err() != nil {
				break // not asked; abort follows in collect
			}
			r.Asked = append(r.Asked, p)
			r.Unreachable[p] = err.Error()
			n.answered[p] = true
			n.emit(EventUnreachable, number, p, m, err.Error())
			continue
		}
		r.Asked = append(r.Asked, p)
		if r.CFP == nil {
			r.CFP = m
		}
		n.roundOf[m.ReplyWith] = number
		n.emit(EventCall, number, p, m, "")
	}
	return r
}

// collect gathers the round's answers until everyone answered or the
// deadline passed.
func (n *Negotiation) collect(r *Round) error {
	if err := n.ctx.Err(); err != nil {
		return err // even if no call went out
	}
	dl, stop := n.in.Client.Deadline(r.Deadline)
	defer stop()
	for len(n.answered) < len(r.Asked) {
		m, err := n.conv.ReceiveBefore(n.ctx, dl)
		if errors.Is(err, protocol.ErrTimeout) {
			// Answers sent in time may still sit in the inbox, behind the
			// client's reader: let it catch up, then take what is there.
			// Each is judged by its send stamp, so nothing sent late slips in.
			if err := n.in.Client.Sync(n.ctx); err != nil && n.ctx.Err() != nil {
				return n.ctx.Err()
			}
			for m, ok := n.conv.TryReceive(); ok && len(n.answered) < len(r.Asked); m, ok = n.conv.TryReceive() {
				n.phaseOne(r, m)
			}
			break
		}
		if err != nil {
			return err
		}
		n.phaseOne(r, m)
	}
	for _, p := range r.Asked {
		if !n.answered[p] {
			r.Silent = append(r.Silent, p)
			n.emit(EventSilent, r.Number, p, nil, "")
		}
	}
	return nil
}

// phaseOne handles a message that arrives while a call is open.
func (n *Negotiation) phaseOne(r *Round, m *acl.Message) {
	if n.foreign(m) {
		return
	}
	if m.Performative == acl.Propose {
		switch rd := n.roundFor(m, r); {
		case rd == nil || !slices.Contains(rd.Asked, m.Sender):
			n.violation(m, "a proposal from a participant not called in this round")
			return
		case rd == r && n.answered[m.Sender] || rd != r && proposed(rd, m.Sender):
			// Checked before lateness: a reject would withdraw the first,
			// valid proposal at the participant.
			n.violation(m, "a second answer to the same call")
			return
		case rd != r || !m.CreatedAt.Before(rd.Deadline):
			n.late(rd, m) // after the deadline, or for a round already over
			return
		}
	}
	if !slices.Contains(r.Asked, m.Sender) {
		n.strayAnswer(m)
		return
	}
	switch m.Performative {
	case acl.Propose:
		n.answered[m.Sender] = true
		r.Proposals = append(r.Proposals, Proposal{From: m.Sender, Round: r.Number, Message: m})
		n.emit(EventPropose, r.Number, m.Sender, m, "")
	case acl.Refuse, acl.NotUnderstood:
		if n.answered[m.Sender] {
			n.strayAnswer(m)
			return
		}
		n.answered[m.Sender] = true
		if m.Performative == acl.Refuse {
			r.Refused[m.Sender] = string(m.Content)
			n.emit(EventRefuse, r.Number, m.Sender, m, string(m.Content))
		} else {
			r.NotUnderstood[m.Sender] = string(m.Content)
			n.emit(EventNotUnderstood, r.Number, m.Sender, m, string(m.Content))
		}
	default:
		n.strayAnswer(m)
	}
}

// roundFor finds the round a proposal answers (by in-reply-to), assuming
// the current one when it does not say.
func (n *Negotiation) roundFor(m *acl.Message, cur *Round) *Round {
	if m.InReplyTo == "" {
		return cur
	}
	num, ok := n.roundOf[m.InReplyTo]
	if !ok {
		return nil
	}
	return n.rounds[num]
}

// proposed reports whether who proposed in round r, in time or late.
func proposed(r *Round, who acl.AgentID) bool {
	has := func(p Proposal) bool { return p.From == who }
	return slices.ContainsFunc(r.Proposals, has) || slices.ContainsFunc(r.Late, has)
}
