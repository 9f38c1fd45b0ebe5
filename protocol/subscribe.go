package protocol

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// Subscription is the subscriber's side of a FIPA subscribe conversation
// (SC00035H) that the responder agreed to: a stream of informs read with
// Next, ended by Cancel or by the responder's failure.
//
// Each inform must carry SeqParam = 1, 2, 3 ... so losses and repeats are
// caught rather than passed on as if nothing happened. An inform that
// breaks the sequence is a violation: it is answered with not-understood
// and recorded (Violations). An inform that skips numbers is still
// returned — its content is news, only its predecessors are missing — and
// the count resumes after it; one that repeats a number already seen, or
// lacks a readable SeqParam, is not returned, since it cannot be placed in
// the stream.
//
// A Subscription runs no goroutine of its own: informs wait in the
// conversation (bounded by WithConversationBuffer; beyond it the client
// answers failure) until Next takes them. Its methods are safe for
// concurrent use.
type Subscription struct {
	c     *Client
	cv    *Conversation
	id    string
	peer  acl.AgentID
	subRW string // the subscribe's reply-with
	sub   *acl.Message
	recv  chan struct{} // a token held by the one goroutine receiving from cv

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change of state
	agree      *acl.Message
	ready      []*acl.Message // informs in order, for Next
	next       int            // the SeqParam expected next
	violations []Violation
	cancelRW   string // the cancel's reply-with, once Cancel sent it
	cancelDone bool   // the responder answered the cancel
	cancelErr  error  // its answer when unsuccessful
	err        error  // why the subscription ended; nil while it runs
}

// Subscribe runs the FIPA subscribe protocol (SC00035H): it sends m, a
// subscribe to exactly one responder, and waits until the responder
// agrees, then returns the Subscription that delivers its informs. A
// refuse (or failure, or not-understood) is a *ReplyError wrapping
// ErrRefused (ErrFailure, ErrNotUnderstood). m.ReplyBy bounds the wait for
// the agree only, on the client's clock (ErrTimeout); the stream itself
// lasts until Cancel. If the responder agrees after Subscribe gave up, the
// subscription is cancelled at once, so nothing keeps publishing to a
// subscriber that is not listening.
//
// m.Performative zero becomes subscribe, m.Protocol empty fipa-subscribe.
//
// Subscribe returns a non-nil *Subscription even with an error, so the
// Violations seen before the agree are visible; such a subscription is
// already over: Next returns the error and Cancel does nothing.
func (c *Client) Subscribe(ctx context.Context, m *acl.Message) (*Subscription, error) {
	s := &Subscription{c: c, recv: make(chan struct{}, 1), changed: make(chan struct{}), next: 1}
	peer, err := c.prepare(m, acl.Subscribe, FIPASubscribe)
	if err != nil {
		s.err = err
		return s, err
	}
	cv, err := c.Open(m.ConversationID)
	if err != nil {
		s.err = err
		return s, err
	}
	s.cv, s.id, s.peer = cv, cv.ID(), peer
	deadline, release := c.Deadline(m.ReplyBy)
	defer release()
	if err := cv.Send(ctx, m); err != nil {
		s.err = err
		cv.End()
		return s, err
	}
	// Keep what the cancel repeats, not m itself: m belongs to the
	// endpoint now.
	s.subRW = m.ReplyWith
	s.sub = &acl.Message{Content: slices.Clone(m.Content), Language: m.Language, Encoding: m.Encoding, Ontology: m.Ontology}
	for {
		s.mu.Lock()
		agreed, err, changed := s.agree != nil, s.err, s.changed
		s.mu.Unlock()
		switch {
		case err != nil:
			return s, err
		case agreed:
			return s, nil
		}
		if err := s.pump(ctx, deadline, changed); err != nil {
			if errors.Is(err, ErrTimeout) {
				err = fmt.Errorf("%w: %q did not agree to subscribe by %s", ErrTimeout, peer, m.ReplyBy.Format(time.RFC3339Nano))
			}
			s.end(err)
			return s, err
		}
	}
}

// ID returns the subscription's conversation-id ("" if it never started).
func (s *Subscription) ID() string { return s.id }

// Agree returns the responder's agree, or nil if it never agreed.
func (s *Subscription) Agree() *acl.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agree
}

// Violations returns the messages that broke the protocol so far; each was
// answered with not-understood.
func (s *Subscription) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// Next returns the next inform of the stream, waiting up to ctx. When the
// responder ends the subscription with failure (or not-understood), Next
// first returns the informs that came before it, then a *ReplyError
// wrapping ErrFailure (ErrNotUnderstood) from then on. Once Cancel was
// called, Next returns ErrCancelled: informs not yet taken are discarded.
// If the client closes, Next returns ErrClosed.
func (s *Subscription) Next(ctx context.Context) (*acl.Message, error) {
	for {
		s.mu.Lock()
		switch {
		case len(s.ready) > 0 && s.cancelRW == "":
			m := s.ready[0]
			s.ready[0] = nil
			s.ready = s.ready[1:]
			s.mu.Unlock()
			return m, nil
		case s.err != nil:
			err := s.err
			s.mu.Unlock()
			return nil, err
		case s.cancelRW != "":
			s.mu.Unlock()
			return nil, ErrCancelled
		}
		changed := s.changed
		s.mu.Unlock()
		if err := s.pump(ctx, nil, changed); err != nil {
			return nil, err
		}
	}
}

// Cancel ends the subscription the FIPA way: it sends cancel and waits, up
// to ctx, for the responder's inform-done (nil) or failure (a *ReplyError
// wrapping ErrFailure). Informs that cross the cancel on the way are
// expected and discarded quietly. Whatever the outcome — even if ctx ends
// first or the cancel cannot be sent — the subscription is over locally
// when Cancel returns. Cancel on a subscription that is already over sends
// nothing; it returns the earlier cancel's outcome, or ErrClosed if the
// client closed, else nil.
func (s *Subscription) Cancel(ctx context.Context) error {
	s.mu.Lock()
	if s.err != nil {
		err := s.overErrLocked()
		s.mu.Unlock()
		return err
	}
	send := s.cancelRW == ""
	if send {
		s.cancelRW = s.id + ".cancel"
		s.broadcastLocked()
	}
	rw := s.cancelRW
	s.mu.Unlock()
	if send {
		if err := s.cv.Send(ctx, s.cancelMessage(rw)); err != nil {
			s.end(ErrCancelled)
			return fmt.Errorf("protocol: cancel subscription %q: %w", s.id, err)
		}
	}
	for {
		s.mu.Lock()
		if s.err != nil {
			err := s.overErrLocked()
			s.mu.Unlock()
			return err
		}
		changed := s.changed
		s.mu.Unlock()
		if err := s.pump(ctx, nil, changed); err != nil {
			s.end(ErrCancelled) // stop waiting for the confirmation
			return err
		}
	}
}

// overErrLocked is what Cancel reports for a subscription that is over.
func (s *Subscription) overErrLocked() error {
	switch {
	case s.cancelDone:
		return s.cancelErr
	case errors.Is(s.err, ErrClosed):
		return s.err
	}
	return nil
}

func (s *Subscription) cancelMessage(replyWith string) *acl.Message {
	m := acl.New(acl.Cancel, s.peer)
	m.Protocol = FIPASubscribe
	m.ConversationID = s.id
	m.ReplyWith = replyWith
	// FIPA's cancel names the action it cancels: the subscription's content.
	m.Content = s.sub.Content
	m.Language, m.Encoding, m.Ontology = s.sub.Language, s.sub.Encoding, s.sub.Ontology
	return m
}

// pump receives and handles one message — unless another goroutine holds
// the receiving token, in which case it returns when that one changed the
// state (changed closed) or handed the token over. Only one goroutine
// receives at a time, so messages are handled in arrival order.
func (s *Subscription) pump(ctx context.Context, deadline <-chan struct{}, changed <-chan struct{}) error {
	select {
	case s.recv <- struct{}{}:
	case <-changed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.recv }()
	select {
	case <-changed: // the state moved while we waited for the token
		return nil
	default:
	}
	m, err := s.cv.ReceiveBefore(ctx, deadline)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			s.end(err)
			return nil
		}
		return err
	}
	s.mu.Lock()
	reason, ended := s.classifyLocked(m)
	if reason != "" {
		s.violations = append(s.violations, Violation{Message: m, Reason: reason})
	}
	s.broadcastLocked()
	s.mu.Unlock()
	if reason != "" {
		s.c.notUnderstood(ctx, m, reason)
	}
	if ended {
		s.cv.EndWith(s.after)
	}
	return nil
}

// classifyLocked applies m to the state. It returns the reason m broke the
// protocol ("" if it did not) and whether m ended the subscription.
func (s *Subscription) classifyLocked(m *acl.Message) (violation string, ended bool) {
	rws := []string{s.subRW}
	if s.cancelRW != "" {
		rws = append(rws, s.cancelRW)
	}
	if r := misrouted(m, s.peer, s.id, rws...); r != "" {
		return r, false
	}
	p := m.Performative
	switch {
	case s.cancelRW != "" && m.InReplyTo == s.cancelRW: // the cancel's answer
		switch p {
		case acl.Inform: // inform-done
		case acl.Failure, acl.NotUnderstood, acl.Refuse:
			s.cancelErr = replyError(m)
		default:
			return p.String() + " does not answer a cancel", false
		}
		s.cancelDone = true
		return "", s.finishLocked(ErrCancelled)
	case s.agree == nil:
		switch p {
		case acl.Agree:
			s.agree = m
			return "", false
		case acl.Refuse, acl.Failure, acl.NotUnderstood:
			return "", s.finishLocked(replyError(m))
		case acl.Inform:
			return "inform before agree", false
		}
	case p == acl.Inform:
		if s.cancelRW != "" {
			return "", false // crossed the cancel: expected, discarded
		}
		return s.sequenceLocked(m), false
	case p == acl.Failure, p == acl.NotUnderstood:
		if m.InReplyTo != "" && m.InReplyTo != s.subRW && m.InReplyTo != s.cancelRW {
			// A complaint about one of our own answers (a not-understood we
			// sent), not about the subscription: it does not end it.
			return "", false
		}
		return "", s.finishLocked(replyError(m))
	case p == acl.Agree:
		return "a second agree", false
	}
	return fmt.Sprintf("%s does not belong in the %s protocol", p, FIPASubscribe), false
}

// sequenceLocked checks an inform's SeqParam, queues it for Next when it
// belongs in the stream, and returns the violation, if any.
func (s *Subscription) sequenceLocked(m *acl.Message) string {
	v, ok := m.Param(SeqParam)
	if !ok {
		return "inform without " + SeqParam
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Sprintf("garbled %s %q", SeqParam, v)
	}
	switch {
	case n == s.next:
		s.ready = append(s.ready, m)
		s.next++
		return ""
	case n > s.next:
		reason := fmt.Sprintf("%s %d where %d was expected: %d inform(s) missing", SeqParam, n, s.next, n-s.next)
		s.ready = append(s.ready, m)
		s.next = n + 1
		return reason
	default:
		return fmt.Sprintf("%s %d repeats an inform already seen (%d was expected)", SeqParam, n, s.next)
	}
}

// finishLocked records why the subscription ended; false if it already had.
func (s *Subscription) finishLocked(err error) bool {
	if s.err != nil {
		return false
	}
	s.err = err
	return true
}

func (s *Subscription) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// end ends the subscription with err (if it had not ended) and its
// conversation.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	ended := s.finishLocked(err)
	s.broadcastLocked()
	s.mu.Unlock()
	if ended {
		s.cv.EndWith(s.after)
	}
}

// after handles what arrives once the subscription is over: the
// responder's informs and cancel answers still in flight after a cancel
// are expected and dropped quietly; an agree that comes after Subscribe
// gave up is cancelled; anything else is answered with not-understood.
func (s *Subscription) after(ctx context.Context, m *acl.Message) {
	s.mu.Lock()
	fromPeer := m.Sender == s.peer && m.ConversationID == s.id
	lateAgree := fromPeer && m.Performative == acl.Agree && s.agree == nil && s.cancelRW == ""
	if lateAgree {
		s.cancelRW = s.id + ".cancel"
	}
	cancelRW, over := s.cancelRW, s.err
	s.mu.Unlock()
	switch {
	case lateAgree:
		if err := s.c.ep.Send(ctx, s.cancelMessage(cancelRW)); err != nil {
			s.c.logger.WarnContext(acl.NewContext(ctx, m), "protocol: could not cancel a subscription agreed too late", "conversation_id", s.id, "receiver", s.peer, "error", err)
		}
	case fromPeer && cancelRW != "" && (m.Performative == acl.Inform || m.InReplyTo == cancelRW):
		s.c.logger.DebugContext(acl.NewContext(ctx, m), "protocol: discarded a message that crossed the cancel", "conversation_id", s.id, "message_id", m.ID, "performative", m.Performative)
	default:
		reason := fmt.Sprintf("subscription %q is over (%v)", s.id, over)
		s.c.logger.WarnContext(acl.NewContext(ctx, m), "protocol: message after the subscription ended", "conversation_id", s.id, "message_id", m.ID, "sender", m.Sender, "performative", m.Performative)
		s.c.notUnderstood(ctx, m, reason)
	}
}
