package contractnet

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
)

// award accepts the decision's winners and rejects the other proposers.
func (n *Negotiation) award(r *Round, d Decision) {
	for _, p := range r.Proposals {
		if !slices.Contains(d.Accept, p.From) {
			continue
		}
		ctx, cancel := n.sendCtx()
		acc := p.Message.CreateReplyWith(acl.AcceptProposal, "")
		acc.Content = p.Message.Content
		err := n.conv.Send(ctx, acc)
		cancel()
		if err != nil {
			// The winner cannot be told: it has an outcome at once.
			n.res.Winners = append(n.res.Winners, p)
			n.res.Outcomes = append(n.res.Outcomes, Outcome{Participant: p.From, Proposal: p, Status: Failed,
				Reason: "accept-proposal could not be sent: " + err.Error()})
			n.emit(EventUnreachable, r.Number, p.From, acc, err.Error())
			continue
		}
		n.winners[p.From] = len(n.res.Outcomes)
		n.res.Winners = append(n.res.Winners, p)
		n.res.Outcomes = append(n.res.Outcomes, Outcome{Participant: p.From, Proposal: p})
		n.emit(EventAccept, r.Number, p.From, acc, "")
	}
	n.rejectAll(r, d.Accept, cmpOr(d.Reason, "another proposal was chosen"))
}

// rejectAll rejects the round's proposers not in keep.
func (n *Negotiation) rejectAll(r *Round, keep []acl.AgentID, reason string) {
	for _, p := range r.Proposals {
		if !slices.Contains(keep, p.From) {
			n.reject(r.Number, p.Message, reason)
		}
	}
}

// awaitResults is phase two: the winners' reports, until the result
// deadline.
func (n *Negotiation) awaitResults() error {
	if len(n.winners) == 0 {
		return nil
	}
	timeout := n.in.ResultTimeout
	if timeout <= 0 {
		timeout = defaultResultTimeout
	}
	dl, stop := n.in.Client.Deadline(n.in.Client.Clock().Now().Add(timeout))
	defer stop()
	for len(n.winners) > 0 {
		m, err := n.conv.ReceiveBefore(n.ctx, dl)
		if errors.Is(err, protocol.ErrTimeout) {
			break
		}
		if err != nil {
			return err
		}
		n.phaseTwo(m)
	}
	for who, i := range n.winners {
		o := &n.res.Outcomes[i]
		o.Status, o.Reason = TimedOut, "no report before the result deadline"
		n.emit(EventTimeout, o.Proposal.Round, who, nil, o.Reason)
		n.sendCancel(who, o.Reason)
	}
	clear(n.winners)
	return nil
}

// phaseTwo handles a message while winners are working.
func (n *Negotiation) phaseTwo(m *acl.Message) {
	if n.foreign(m) {
		return
	}
	i, pending := n.winners[m.Sender]
	switch {
	case m.Performative == acl.Propose:
		rd := n.roundFor(m, n.res.Rounds[len(n.res.Rounds)-1])
		switch {
		case rd == nil || !slices.Contains(rd.Asked, m.Sender):
			n.violation(m, "a proposal from a participant not called")
		case proposed(rd, m.Sender):
			// Never reject it: that would reach a winner at work, or tell
			// a loser twice.
			n.violation(m, "a second answer to the same call")
		default:
			n.late(rd, m)
		}
	case pending && (m.Performative == acl.Inform || m.Performative == acl.Failure || m.Performative == acl.NotUnderstood):
		// A winner that did not understand its accept will never report.
		delete(n.winners, m.Sender)
		n.report(&n.res.Outcomes[i], m)
	default:
		n.strayAnswer(m)
	}
}

// report records a winner's answer in its outcome.
func (n *Negotiation) report(o *Outcome, m *acl.Message) {
	o.Message = m
	switch {
	case m.Performative == acl.Failure:
		o.Status, o.Reason = Failed, string(m.Content)
		n.emit(EventFailure, o.Proposal.Round, m.Sender, m, o.Reason)
	case m.Performative == acl.NotUnderstood:
		o.Status, o.Reason = Failed, "not-understood: "+string(m.Content)
		n.emit(EventFailure, o.Proposal.Round, m.Sender, m, o.Reason)
	case len(m.Content) == 0:
		o.Status = Done
		n.emit(EventDone, o.Proposal.Round, m.Sender, m, "")
	default:
		o.Status = Informed
		n.emit(EventResult, o.Proposal.Round, m.Sender, m, "")
	}
}

// sendCancel sends the FIPA cancel to who.
func (n *Negotiation) sendCancel(who acl.AgentID, reason string) {
	ctx, cancel := n.sendCtx()
	defer cancel()
	c := acl.New(acl.Cancel, who)
	c.Protocol, c.Content, c.Language = n.cfp.Protocol, []byte(reason), "text/plain"
	if err := n.conv.Send(ctx, c); err != nil {
		n.emit(EventUnreachable, 0, who, c, err.Error())
		return
	}
	n.cancelSent[who] = true
	n.emit(EventCancel, 0, who, c, reason)
}

func (n *Negotiation) cancelAck(m *acl.Message) {
	if n.res.CancelAcks == nil {
		n.res.CancelAcks = map[acl.AgentID]*acl.Message{}
	}
	n.res.CancelAcks[m.Sender] = m
	delete(n.cancelSent, m.Sender)
	n.emit(EventCancelAck, 0, m.Sender, m, string(m.Content))
}

// abort ends the negotiation early: err is the context's error, either
// because Cancel was called or because the caller's context ended. r is
// the open round, if the cancel came in phase one.
func (n *Negotiation) abort(err error, r *Round) {
	n.mu.Lock()
	reason := n.reason
	n.mu.Unlock()
	byCancel := reason != ""
	if byCancel {
		n.err = fmt.Errorf("%w: %s", ErrCancelled, reason)
	} else {
		n.err = err // the caller's context ended, or the client closed
		reason = "the initiator gave up: " + err.Error()
	}
	var inPlay []acl.AgentID
	if r != nil {
		for _, p := range r.Asked {
			_, refused := r.Refused[p]
			_, misunderstood := r.NotUnderstood[p] // the reason may be empty
			_, unreachable := r.Unreachable[p]
			if !refused && !misunderstood && !unreachable {
				inPlay = append(inPlay, p)
			}
		}
	}
	for who, i := range n.winners {
		o := &n.res.Outcomes[i]
		o.Status, o.Reason = Cancelled, reason
		inPlay = append(inPlay, who)
	}
	clear(n.winners)
	if errors.Is(err, protocol.ErrClosed) && !byCancel {
		return // nothing can be sent or received any more
	}
	for _, who := range inPlay {
		n.sendCancel(who, reason)
	}
	if !byCancel || len(n.cancelSent) == 0 {
		return
	}
	timeout := n.in.CancelTimeout
	if timeout <= 0 {
		timeout = defaultCancelTimeout
	}
	dl, stop := n.in.Client.Deadline(n.in.Client.Clock().Now().Add(timeout))
	defer stop()
	for len(n.cancelSent) > 0 {
		m, err := n.conv.ReceiveBefore(context.Background(), dl)
		if err != nil {
			return
		}
		switch {
		case n.foreign(m):
		case m.Performative == acl.Propose && n.cancelSent[m.Sender]:
			// It crossed our cancel, which already covers it: rejecting too
			// would only earn a not-understood.
		case m.Performative == acl.Propose:
			if rd := n.roundFor(m, r); rd != nil && slices.Contains(rd.Asked, m.Sender) {
				n.reject(rd.Number, m, "the negotiation was cancelled")
			} else {
				n.violation(m, "a proposal from a participant not called")
			}
		default:
			n.strayAnswer(m)
		}
	}
}

// afterEnd returns the handler for what arrives once negotiation conv is
// over: a proposal is rejected as late, an answer to a cancel is taken
// quietly, anything else is not understood. Each is reported as
// EventAfterEnd. The client keeps the handler for many ended
// conversations, so it holds only what it needs, not the Negotiation.
func afterEnd(in *Initiator, conv string) func(context.Context, *acl.Message) {
	return func(ctx context.Context, m *acl.Message) {
		reason := "the negotiation has ended"
		if m.Performative == acl.Propose {
			reason = "late: " + reason
		}
		if in.OnEvent != nil { // before answering: the event precedes what the answer causes
			in.OnEvent(Event{Time: in.Client.Clock().Now(), Conversation: conv, Kind: EventAfterEnd,
				Participant: m.Sender, Message: m, Reason: reason})
		}
		var err error
		switch m.Performative {
		case acl.Propose:
			err = in.Client.Answer(ctx, m, acl.RejectProposal, reason)
		case acl.Inform, acl.Failure, acl.NotUnderstood:
			// Answers to our cancel or reject, or a report after its deadline:
			// there is no one to tell; the event still shows it.
		default:
			err = in.Client.Answer(ctx, m, acl.NotUnderstood, reason)
		}
		if err != nil && in.OnEvent != nil { // the answer could not be sent: say so
			in.OnEvent(Event{Time: in.Client.Clock().Now(), Conversation: conv, Kind: EventUnreachable,
				Participant: m.Sender, Message: m, Reason: err.Error()})
		}
	}
}
