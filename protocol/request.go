package protocol

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// Answer is what the responder said in a one-shot conversation (request,
// query, propose), kept whole so a caller can read more than the verdict:
// the content of an agree, the result's metadata, and every message that
// broke the protocol on the way.
//
// The initiator methods return a non-nil *Answer even with an error, so
// Violations are visible however the conversation ended. An unsuccessful
// answer (refuse, failure, not-understood, reject-proposal) is in the
// returned *ReplyError, not in Result.
type Answer struct {
	// Agree is the responder's agree, if it sent one (it is optional).
	Agree *acl.Message
	// Result is the answer that ended the conversation successfully: the
	// inform of request and query, the accept-proposal of propose.
	Result *acl.Message
	// Violations are the messages that broke the protocol while the call
	// waited — from someone other than the responder, out of sequence, in a
	// foreign conversation, or already waiting behind the result. Each was
	// answered with not-understood. Stragglers that arrive after the call
	// returned are answered the same way by the conversation's after-end
	// handler and logged on the client's logger (WithLogger).
	Violations []Violation
}

// oneShot describes a protocol made of one initiating message and one
// final answer, optionally preceded by an agree.
type oneShot struct {
	act       acl.Performative // the initiating act
	protocol  string           // its protocol name
	agreeOK   bool             // an agree may precede the answer
	success   acl.Performative // the successful final answer
	refusal   acl.Performative // the unsuccessful answer that must precede agree
	failureOK bool             // failure ends the conversation unsuccessfully
}

var requestProtocol = oneShot{
	act: acl.Request, protocol: FIPARequest,
	agreeOK: true, success: acl.Inform, refusal: acl.Refuse, failureOK: true,
}

// Request runs the FIPA request protocol (SC00026H): it sends m, a request
// to exactly one responder, and waits for the outcome. The responder may
// agree first (Answer.Agree); success is an inform — inform-done with no
// content, or inform-result carrying it (Answer.Result). A refuse,
// failure or not-understood ends it with a *ReplyError wrapping ErrRefused,
// ErrFailure or ErrNotUnderstood.
//
// m.Performative may be left zero (it becomes request) and m.Protocol
// empty (it becomes fipa-request); m.ConversationID, if set, names the
// conversation, else a fresh one is made. m.ReplyBy bounds the whole
// exchange, agree and result alike, on the client's clock: when it passes,
// the error wraps ErrTimeout. A zero ReplyBy waits as long as ctx allows.
// When Request returns, the conversation is over: a late answer is told so
// with not-understood.
//
// Messages that break the protocol do not end the call: each is answered
// with not-understood and recorded in Answer.Violations, and Request keeps
// waiting for the responder's real answer.
func (c *Client) Request(ctx context.Context, m *acl.Message) (*Answer, error) {
	return c.exchange(ctx, m, requestProtocol)
}

// exchange runs a oneShot protocol: it checks and sends m, then feeds every
// arrival to step until the conversation ends.
func (c *Client) exchange(ctx context.Context, m *acl.Message, p oneShot) (*Answer, error) {
	ans := &Answer{}
	peer, err := c.prepare(m, p.act, p.protocol)
	if err != nil {
		return ans, err
	}
	cv, err := c.Open(m.ConversationID)
	if err != nil {
		return ans, err
	}
	deadline, release := c.Deadline(m.ReplyBy)
	defer release()
	if err := cv.Send(ctx, m); err != nil {
		cv.End()
		return ans, err
	}
	x := &exchange{c: c, cv: cv, p: p, peer: peer, replyWith: m.ReplyWith, ans: ans}
	var final error
	for {
		in, err := cv.ReceiveBefore(ctx, deadline)
		if err != nil {
			final = err
			x.over = "the initiator stopped waiting (" + err.Error() + ")"
			if errors.Is(err, ErrTimeout) {
				final = x.timeout(m.ReplyBy)
				x.over = "the reply-by deadline passed"
			}
			break
		}
		if done, err := x.step(ctx, in); done {
			final = err
			x.over = "it ended with " + in.Performative.String()
			break
		}
	}
	// What already waits behind the final answer broke the protocol; report
	// it here rather than leave it to the after-end handler, which cannot
	// reach this Answer. (A cancelled call leaves it to that handler.)
	for ctx.Err() == nil {
		in, ok := cv.TryReceive()
		if !ok {
			break
		}
		x.violate(ctx, in, x.afterEnd(in))
	}
	cv.EndWith(x.after)
	return ans, final
}

// prepare checks m for an initiator of act in protocol, filling in the
// defaults, and returns the one responder.
func (c *Client) prepare(m *acl.Message, act acl.Performative, protocol string) (acl.AgentID, error) {
	if m == nil {
		return "", errNilMessage
	}
	switch m.Performative {
	case 0:
		m.Performative = act
	case act:
	default:
		return "", &acl.FieldError{Field: "performative", Reason: fmt.Sprintf("the %s protocol starts with %s, not %s", protocol, act, m.Performative)}
	}
	switch m.Protocol {
	case "":
		m.Protocol = protocol
	case protocol:
	default:
		return "", &acl.FieldError{Field: "protocol", Reason: fmt.Sprintf("%s runs the %s protocol, not %q", act, protocol, m.Protocol)}
	}
	if len(m.Receivers) != 1 {
		return "", &acl.FieldError{Field: "receiver", Reason: fmt.Sprintf("the %s protocol has exactly one responder, got %d receivers", protocol, len(m.Receivers))}
	}
	peer := m.Receivers[0]
	if peer.IsTopic() {
		return "", &acl.FieldError{Field: "receiver", Reason: fmt.Sprintf("%q is a topic; the %s protocol has exactly one responder", peer, protocol)}
	}
	if m.ReplyTo != "" && m.ReplyTo != c.Name() {
		return "", &acl.FieldError{Field: "reply_to", Reason: fmt.Sprintf("answers to %q would never reach the client %q", m.ReplyTo, c.Name())}
	}
	return peer, nil
}

// exchange is the state of one oneShot conversation.
type exchange struct {
	c         *Client
	cv        *Conversation
	p         oneShot
	peer      acl.AgentID
	replyWith string
	ans       *Answer
	resulted  bool   // the successful answer came
	over      string // how it ended, for the after-end handler
}

// step handles one arrival; done reports the end of the conversation, err
// its unsuccessful outcome.
func (x *exchange) step(ctx context.Context, m *acl.Message) (done bool, err error) {
	if reason := misrouted(m, x.peer, x.cv.ID(), x.replyWith); reason != "" {
		x.violate(ctx, m, reason)
		return false, nil
	}
	switch perf := m.Performative; {
	case perf == acl.Agree && x.p.agreeOK:
		if x.ans.Agree != nil {
			x.violate(ctx, m, "a second agree")
			return false, nil
		}
		x.ans.Agree = m
		return false, nil
	case perf == x.p.success:
		x.ans.Result = m
		x.resulted = true
		return true, nil
	case perf == x.p.refusal:
		if x.ans.Agree != nil {
			x.violate(ctx, m, perf.String()+" after agree")
			return false, nil
		}
		return true, replyError(m)
	case perf == acl.Failure && x.p.failureOK, perf == acl.NotUnderstood:
		return true, replyError(m)
	default:
		x.violate(ctx, m, fmt.Sprintf("%s does not belong in the %s protocol", perf, x.p.protocol))
		return false, nil
	}
}

// afterEnd is the reason given for a message that arrives once the
// conversation has its final answer.
func (x *exchange) afterEnd(m *acl.Message) string {
	if reason := misrouted(m, x.peer, x.cv.ID(), x.replyWith); reason != "" {
		return reason
	}
	if x.resulted {
		return m.Performative.String() + " after the result"
	}
	return m.Performative.String() + " after the conversation ended"
}

// after answers what arrives once the call has returned.
func (x *exchange) after(ctx context.Context, m *acl.Message) {
	reason := fmt.Sprintf("conversation %q is over (%s): %s", x.cv.ID(), x.over, x.afterEnd(m))
	x.c.logger.WarnContext(acl.NewContext(ctx, m), "protocol: message after the conversation ended", "conversation_id", x.cv.ID(), "message_id", m.ID, "sender", m.Sender, "performative", m.Performative, "reason", reason)
	x.c.notUnderstood(ctx, m, reason)
}

func (x *exchange) violate(ctx context.Context, m *acl.Message, reason string) {
	x.ans.Violations = append(x.ans.Violations, Violation{Message: m, Reason: reason})
	x.c.notUnderstood(ctx, m, reason)
}

func (x *exchange) timeout(replyBy time.Time) error {
	if x.ans.Agree != nil {
		return fmt.Errorf("%w: %q agreed but sent no result by %s", ErrTimeout, x.peer, replyBy.Format(time.RFC3339Nano))
	}
	return fmt.Errorf("%w: no answer from %q by %s", ErrTimeout, x.peer, replyBy.Format(time.RFC3339Nano))
}

// misrouted returns why m does not belong to the conversation id with
// responder peer whose own messages carried replyWiths, or "" if it does.
// A message with a foreign conversation-id reaches the conversation only
// through in-reply-to routing.
func misrouted(m *acl.Message, peer acl.AgentID, id string, replyWiths ...string) string {
	switch {
	case m.Sender != peer:
		return fmt.Sprintf("%q is not the responder %q", m.Sender, peer)
	case m.ConversationID != id:
		return fmt.Sprintf("conversation-id %s is not this conversation's %q", quote(m.ConversationID), id)
	case m.InReplyTo != "" && !slices.Contains(replyWiths, m.InReplyTo):
		return fmt.Sprintf("in-reply-to %q answers no message of this conversation", m.InReplyTo)
	}
	return ""
}

// notUnderstood answers m with not-understood from the client's endpoint
// (never a not-understood itself), logging a failure to send: the
// violation is reported to the caller either way.
func (c *Client) notUnderstood(ctx context.Context, m *acl.Message, reason string) {
	if err := ReplyNotUnderstood(ctx, endpointConn{c}, m, reason); err != nil {
		c.logger.WarnContext(acl.NewContext(ctx, m), "protocol: could not answer not-understood", "receiver", m.Sender, "reason", reason, "error", err)
	}
}
