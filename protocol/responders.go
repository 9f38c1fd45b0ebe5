package protocol

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/caxton-go/caxton/acl"
)

// RequestResponder is the responder side of the FIPA request protocol
// (SC00026H): it turns a request into Check → (agree) → Do → inform, so
// the callbacks hold only the domain logic.
//
// FIPA puts the decision to refuse before the agree and allows only
// failure after it, so the two are separate callbacks: Check decides
// whether to take the request on, Do does it. The error a callback returns
// chooses the answer:
//
//   - nil from Do: inform — inform-done with no content when Do returns nil
//     content, inform-result carrying it otherwise;
//   - a *Refusal (Refuse) from Check: refuse with its reason;
//   - a *Misunderstanding (NotUnderstood) from Check: not-understood;
//   - any other error, or any error from Do: failure with the error's text.
//
// Without Agree, Do may also refuse or misunderstand (nothing was promised
// yet); with Agree, those become failure, since a refuse after an agree
// would break the protocol. A callback error while ctx is done is returned
// instead (the handler was interrupted, so the runtime retries it), as is
// an error sending the answer — so Do, like any handler, may run again for
// the same message and should be idempotent.
//
// Any message but a request is answered with not-understood (a
// not-understood is never answered). The zero value misunderstands every
// request; a RequestResponder is safe for concurrent use if its callbacks
// are.
type RequestResponder struct {
	// Check, if set, runs before anything is promised and may refuse.
	Check func(ctx context.Context, m *acl.Message) error
	// Agree sends agree once Check passed and before Do runs: tell the
	// initiator the request is accepted when Do takes long.
	Agree bool
	// Do performs the request and returns the result (nil for none).
	Do func(ctx context.Context, m *acl.Message) ([]byte, error)
}

// Respond handles one message of a request conversation.
func (r RequestResponder) Respond(ctx context.Context, m *acl.Message, c Conn) error {
	if m.Performative != acl.Request {
		return ReplyNotUnderstood(ctx, c, m, unexpected(FIPARequest, m.Performative))
	}
	if r.Do == nil {
		return ReplyNotUnderstood(ctx, c, m, "this agent performs no requests")
	}
	if r.Check != nil {
		if err := r.Check(ctx, m); err != nil {
			return answerError(ctx, c, m, err, acl.Refuse)
		}
	}
	if r.Agree {
		if err := Reply(ctx, c, m, acl.Agree, nil); err != nil {
			return err
		}
	}
	out, err := r.Do(ctx, m)
	switch {
	case err == nil:
		return Reply(ctx, c, m, acl.Inform, out)
	case r.Agree && ctx.Err() == nil:
		return ReplyReason(ctx, c, m, acl.Failure, err.Error())
	}
	return answerError(ctx, c, m, err, acl.Refuse)
}

// QueryResponder is the responder side of the FIPA query protocol
// (SC00027H): If answers query-if (the inform carries JSON true or false),
// Ref answers query-ref (the inform carries what Ref returns). A nil
// callback means the agent does not answer that kind of query: it is
// answered with not-understood, as is any other act. Callback errors
// choose the answer as in RequestResponder: *Refusal → refuse,
// *Misunderstanding → not-understood, other → failure (returned instead
// when ctx is done). Safe for concurrent use if the callbacks are.
type QueryResponder struct {
	If  func(ctx context.Context, m *acl.Message) (bool, error)
	Ref func(ctx context.Context, m *acl.Message) ([]byte, error)
}

// Respond handles one message of a query conversation.
func (r QueryResponder) Respond(ctx context.Context, m *acl.Message, c Conn) error {
	switch {
	case m.Performative == acl.QueryIf && r.If != nil:
		ok, err := r.If(ctx, m)
		if err != nil {
			return answerError(ctx, c, m, err, acl.Refuse)
		}
		return Reply(ctx, c, m, acl.Inform, []byte(strconv.FormatBool(ok)))
	case m.Performative == acl.QueryRef && r.Ref != nil:
		v, err := r.Ref(ctx, m)
		if err != nil {
			return answerError(ctx, c, m, err, acl.Refuse)
		}
		return Reply(ctx, c, m, acl.Inform, v)
	case m.Performative == acl.QueryIf, m.Performative == acl.QueryRef:
		return ReplyNotUnderstood(ctx, c, m, "this agent answers no "+m.Performative.String())
	}
	return ReplyNotUnderstood(ctx, c, m, unexpected(FIPAQuery, m.Performative))
}

// ProposeResponder is the responder side of the FIPA propose protocol
// (SC00036H). Decide judges the proposal: nil accepts it (accept-proposal,
// repeating the proposal's content, which is what it accepts), a *Refusal
// rejects it (reject-proposal with the reason), a *Misunderstanding
// answers not-understood. Any other error is returned, so the runtime
// retries the proposal later: the protocol has no failure to report it
// with. A nil Decide accepts everything. Any act but propose is answered
// with not-understood. Safe for concurrent use if Decide is.
type ProposeResponder struct {
	Decide func(ctx context.Context, m *acl.Message) error
}

// Respond handles one message of a propose conversation.
func (r ProposeResponder) Respond(ctx context.Context, m *acl.Message, c Conn) error {
	if m.Performative != acl.Propose {
		return ReplyNotUnderstood(ctx, c, m, unexpected(FIPAPropose, m.Performative))
	}
	var err error
	if r.Decide != nil {
		err = r.Decide(ctx, m)
	}
	var ref *Refusal
	var mis *Misunderstanding
	switch {
	case err == nil:
		return Reply(ctx, c, m, acl.AcceptProposal, m.Content)
	case errors.As(err, &ref):
		return ReplyReason(ctx, c, m, acl.RejectProposal, ref.Reason)
	case errors.As(err, &mis):
		return ReplyNotUnderstood(ctx, c, m, mis.Reason)
	}
	return err
}

// SubscribeResponder is the responder side of the FIPA subscribe protocol
// (SC00035H): it keeps the list of subscribers and numbers what Publish
// sends to each with SeqParam, which the initiator's Subscription checks.
//
// A subscribe is judged by Accept (nil accepts all): nil agrees and
// records the subscriber — the subscribe's reply-to, else its sender, in
// its conversation — a *Refusal refuses, a *Misunderstanding answers
// not-understood, another error answers failure. Publish waits while a
// subscriber is being agreed to, so no inform overtakes the agree, and
// every Publish after the subscriber received the agree reaches it. A
// redelivered subscribe (same message id) is ignored; a second
// subscription in the same conversation is refused. A subscribe needs a
// conversation-id, since the cancel names the subscription by it.
//
// A cancel removes the subscription and answers inform-done, or failure
// when there is no such subscription. A not-understood (a subscriber
// complaining about an inform) is ignored; any other act is answered with
// not-understood.
//
// Use a *SubscribeResponder (it holds state); the zero value is ready. It
// is safe for concurrent use: Respond may run in several replicas while
// the host calls Publish.
type SubscribeResponder struct {
	// Accept, if set, decides whether to take a subscription on.
	Accept func(ctx context.Context, m *acl.Message) error
	// Gone, if set, reports whether a send error means the subscriber no
	// longer exists; Publish then drops it instead of reporting the error
	// again on every publication. The package cannot know the runtime's
	// errors, so the host supplies the test, e.g.
	// func(err error) bool { return errors.Is(err, caxton.ErrAgentNotFound) }.
	Gone func(err error) bool

	mu     sync.Mutex
	subs   map[subKey]*subscriber
	closed bool

	pubMu sync.Mutex // serializes Publish and Close, so each subscriber's sequence is in order
}

// subKey names a subscription: where its informs go, and its conversation.
type subKey struct {
	to   acl.AgentID
	conv string
}

type subscriber struct {
	req *acl.Message // the subscribe, which every inform answers
	seq int          // informs delivered so far; guarded by pubMu
}

func keyOf(m *acl.Message) subKey {
	to := m.ReplyTo
	if to == "" {
		to = m.Sender
	}
	return subKey{to: to, conv: m.ConversationID}
}

// Respond handles one message of a subscribe conversation.
func (r *SubscribeResponder) Respond(ctx context.Context, m *acl.Message, c Conn) error {
	switch m.Performative {
	case acl.Subscribe:
		return r.subscribe(ctx, m, c)
	case acl.Cancel:
		r.mu.Lock()
		k := keyOf(m)
		_, ok := r.subs[k]
		delete(r.subs, k)
		r.mu.Unlock()
		if !ok {
			return ReplyReason(ctx, c, m, acl.Failure, "no such subscription")
		}
		return Reply(ctx, c, m, acl.Inform, nil) // inform-done
	case acl.NotUnderstood, acl.Failure:
		// The subscriber could not take an inform (its buffer was full, it
		// ended the conversation): answering would only bounce back. A
		// subscriber that is gone is forgotten when it cancels, or by Gone.
		return nil
	}
	return ReplyNotUnderstood(ctx, c, m, unexpected(FIPASubscribe, m.Performative))
}

func (r *SubscribeResponder) subscribe(ctx context.Context, m *acl.Message, c Conn) error {
	if m.ConversationID == "" {
		return ReplyReason(ctx, c, m, acl.Refuse, "a subscription needs a conversation-id")
	}
	k := keyOf(m)
	r.mu.Lock()
	refusal, redelivered := r.conflictLocked(k, m)
	r.mu.Unlock()
	switch {
	case redelivered:
		return nil
	case refusal != "":
		return ReplyReason(ctx, c, m, acl.Refuse, refusal)
	}
	if r.Accept != nil {
		if err := r.Accept(ctx, m); err != nil {
			return answerError(ctx, c, m, err, acl.Refuse)
		}
	}
	// Record the subscriber before agreeing, with Publish held off until
	// the agree is out: no inform overtakes the agree, and a publication
	// made once the subscriber has the agree reaches it.
	r.pubMu.Lock()
	defer r.pubMu.Unlock()
	r.mu.Lock()
	refusal, redelivered = r.conflictLocked(k, m)
	s := &subscriber{req: m.Clone()}
	if refusal == "" && !redelivered {
		if r.subs == nil {
			r.subs = make(map[subKey]*subscriber)
		}
		r.subs[k] = s
	}
	r.mu.Unlock()
	switch {
	case redelivered:
		return nil
	case refusal != "":
		return ReplyReason(ctx, c, m, acl.Refuse, refusal)
	}
	if err := Reply(ctx, c, m, acl.Agree, nil); err != nil {
		r.drop(s) // not agreed: the retry starts afresh
		return err
	}
	return nil
}

// conflictLocked returns why a subscribe for k cannot be taken on, or
// whether it is a redelivery of the one already recorded.
func (r *SubscribeResponder) conflictLocked(k subKey, m *acl.Message) (refusal string, redelivered bool) {
	old := r.subs[k]
	switch {
	case r.closed:
		return "the subscription service is closed", false
	case old != nil && !m.ID.IsZero() && old.req.ID == m.ID:
		return "", true
	case old != nil:
		return fmt.Sprintf("conversation %q already has a subscription", m.ConversationID), false
	}
	return "", false
}

// Subscribers returns how many subscriptions are active.
func (r *SubscribeResponder) Subscribers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.subs)
}

// Publish sends content to every subscriber: one inform each, in reply to
// its subscribe, numbered with the subscriber's next SeqParam. send sends
// one message: mc.Send inside the agent's handler, or from the host a
// function that sets Sender to the agent's name and calls Runtime.Send.
//
// A number is used up only when its send succeeds, so a failed send leaves
// no gap for the subscriber to complain about. The errors of failed sends
// are joined and returned; a subscriber whose error Gone recognises is
// dropped instead. Publish calls (and Close) are serialized, so every
// subscriber sees its informs in order.
func (r *SubscribeResponder) Publish(ctx context.Context, send func(context.Context, *acl.Message) error, content []byte) error {
	r.pubMu.Lock()
	defer r.pubMu.Unlock()
	subs := r.snapshot()
	content = slices.Clone(content)
	var errs []error
	for _, s := range subs {
		inf := s.req.CreateReplyWith(acl.Inform, "")
		inf.Content = content
		inf.Params = map[string]string{SeqParam: strconv.Itoa(s.seq + 1)}
		if err := send(ctx, inf); err != nil {
			if r.Gone != nil && r.Gone(err) {
				r.drop(s)
				continue
			}
			errs = append(errs, fmt.Errorf("protocol: publish to %q (conversation %q): %w", keyOf(s.req).to, s.req.ConversationID, err))
			continue
		}
		s.seq++
	}
	return errors.Join(errs...)
}

// Close ends every subscription with a failure carrying reason and refuses
// new ones from then on: for an agent that stops offering the service, so
// subscribers learn it instead of waiting for informs that never come. It
// returns the joined errors of failed sends.
func (r *SubscribeResponder) Close(ctx context.Context, send func(context.Context, *acl.Message) error, reason string) error {
	r.pubMu.Lock()
	defer r.pubMu.Unlock()
	r.mu.Lock()
	r.closed = true
	subs := make([]*subscriber, 0, len(r.subs))
	for _, s := range r.subs {
		subs = append(subs, s)
	}
	r.subs = nil
	r.mu.Unlock()
	var errs []error
	for _, s := range subs {
		f := s.req.CreateReplyWith(acl.Failure, "")
		f.Content, f.Language, f.Encoding, f.Ontology = []byte(reason), "text/plain", "", ""
		if err := send(ctx, f); err != nil {
			errs = append(errs, fmt.Errorf("protocol: end subscription of %q (conversation %q): %w", keyOf(s.req).to, s.req.ConversationID, err))
		}
	}
	return errors.Join(errs...)
}

func (r *SubscribeResponder) snapshot() []*subscriber {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*subscriber, 0, len(r.subs))
	for _, s := range r.subs {
		out = append(out, s)
	}
	return out
}

func (r *SubscribeResponder) drop(s *subscriber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k := keyOf(s.req); r.subs[k] == s {
		delete(r.subs, k)
	}
}

// answerError answers m as a callback's err chooses: refusal (refuse or
// reject-proposal) for a *Refusal, not-understood for a *Misunderstanding,
// failure otherwise. While ctx is done the error is returned instead: the
// callback was interrupted, not failed, and the runtime retries.
func answerError(ctx context.Context, c Conn, m *acl.Message, err error, refusal acl.Performative) error {
	if ctx.Err() != nil {
		return err
	}
	var ref *Refusal
	var mis *Misunderstanding
	switch {
	case errors.As(err, &ref):
		return ReplyReason(ctx, c, m, refusal, ref.Reason)
	case errors.As(err, &mis):
		return ReplyNotUnderstood(ctx, c, m, mis.Reason)
	}
	return ReplyReason(ctx, c, m, acl.Failure, err.Error())
}

func unexpected(protocol string, p acl.Performative) string {
	return fmt.Sprintf("%s does not start or continue a %s conversation here", p, protocol)
}
