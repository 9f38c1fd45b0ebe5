package contractnet

import (
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
)

// Result tells the whole story of a negotiation: every round's call and
// answers, who won, and what each winner reported. Run returns it even
// with an error (cancelled, selector failed), filled in as far as the
// negotiation got.
type Result struct {
	ConversationID string
	// Rounds has one entry per call for proposals: one, unless the selector
	// iterated.
	Rounds []*Round
	// Winners are the accepted proposals of the last round.
	Winners []Proposal
	// Outcomes has one entry per winner, in Winners order.
	Outcomes []Outcome
	// Late are proposals that arrived after their round's deadline, from
	// any round; each was answered with reject-proposal.
	Late []Proposal
	// Violations are messages that broke the protocol (out of sequence, a
	// foreign conversation-id, from a stranger); each was answered with
	// not-understood, unless it was a not-understood itself.
	Violations []protocol.Violation
	// CancelAcks are the answers (inform-done or failure) to the cancel
	// sent when the negotiation was cancelled, by participant.
	CancelAcks map[acl.AgentID]*acl.Message
}

// Asked returns everyone who received a call for proposals, in the order
// first asked.
func (r *Result) Asked() []acl.AgentID {
	seen := map[acl.AgentID]bool{}
	var out []acl.AgentID
	for _, rd := range r.Rounds {
		for _, a := range rd.Asked {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// Succeeded returns the outcomes that reported success.
func (r *Result) Succeeded() []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.OK() {
			out = append(out, o)
		}
	}
	return out
}

// Round is one call for proposals and its answers.
type Round struct {
	Number   int          // 1 for the first call
	CFP      *acl.Message // the call as sent (to the first participant)
	Deadline time.Time    // the call's reply-by
	Asked    []acl.AgentID
	// Proposals arrived before the deadline, in arrival order.
	Proposals []Proposal
	// Refused, NotUnderstood and Unreachable map a participant to its
	// reason (for Unreachable, why the call could not be sent).
	Refused       map[acl.AgentID]string
	NotUnderstood map[acl.AgentID]string
	Unreachable   map[acl.AgentID]string
	// Silent participants did not answer before the deadline.
	Silent []acl.AgentID
	// Late proposals for this round (also in Result.Late).
	Late []Proposal
	// Decision is what the selector chose.
	Decision Decision
}

// Proposal is one propose.
type Proposal struct {
	From    acl.AgentID
	Round   int
	Message *acl.Message
}

// Offer decodes the proposal's content (see ParseOffer).
func (p Proposal) Offer() (Offer, error) { return ParseOffer(p.Message.Content) }

// Status is how a winner's task ended.
type Status uint8

// Outcome statuses.
const (
	// Done: the winner answered inform-done.
	Done Status = iota + 1
	// Informed: the winner answered inform-result (or inform) with a result.
	Informed
	// Failed: the winner answered failure (or did not understand the
	// accept).
	Failed
	// TimedOut: no answer before the result deadline; the winner was sent a
	// cancel.
	TimedOut
	// Cancelled: the negotiation was cancelled before the winner answered.
	Cancelled
)

func (s Status) String() string {
	switch s {
	case Done:
		return "done"
	case Informed:
		return "informed"
	case Failed:
		return "failed"
	case TimedOut:
		return "timed out"
	case Cancelled:
		return "cancelled"
	}
	return "unknown"
}

// Outcome is what one winner reported.
type Outcome struct {
	Participant acl.AgentID
	Proposal    Proposal
	Status      Status
	// Message is the winner's answer (nil when TimedOut or Cancelled).
	Message *acl.Message
	// Reason is the failure's reason, or why there is no answer.
	Reason string
}

// OK reports whether the winner succeeded (Done or Informed).
func (o Outcome) OK() bool { return o.Status == Done || o.Status == Informed }

// Result returns the content of the winner's inform-result (nil otherwise).
func (o Outcome) Result() []byte {
	if o.Status == Informed && o.Message != nil {
		return o.Message.Content
	}
	return nil
}
