package contractnet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
)

// Sentinel errors of a negotiation.
var (
	// ErrNoParticipants: the call for proposals resolved to nobody.
	ErrNoParticipants = errors.New("contractnet: no participants")
	// ErrCancelled: Negotiation.Cancel ended the negotiation.
	ErrCancelled = errors.New("contractnet: negotiation cancelled")
	// ErrSelection: the selector failed or made an invalid decision; every
	// proposal of the round was rejected.
	ErrSelection = errors.New("contractnet: selection failed")
)

// CapabilityPrefix marks a receiver of a call for proposals that names a
// capability, resolved through the Initiator's Directory; see Capability.
const CapabilityPrefix = "capability:"

// Capability returns a receiver for a call for proposals that stands for
// every agent advertising capability (caxton.AgentSpec.Capabilities). It is
// resolved before sending; it is not an address on the bus.
func Capability(name string) acl.AgentID { return acl.AgentID(CapabilityPrefix + name) }

// Directory resolves topics and capabilities to agents. *caxton.Runtime
// satisfies it.
type Directory interface {
	Subscribers(topic string) []acl.AgentID
	Capable(capability string) []acl.AgentID
}

// Initiator runs Contract Net negotiations (FIPA SC00029H, and the iterated
// variant SC00030H) over a protocol.Client: any number concurrently, each in
// its own conversation. The zero value is not usable: set Client.
type Initiator struct {
	// Client carries the conversations (required). Its clock measures the
	// deadlines.
	Client *protocol.Client
	// Directory resolves acl.Topic and Capability receivers of a call.
	Directory Directory
	// Select chooses winners; default LowestCost(1).
	Select Selector
	// ResultTimeout bounds phase two, from acceptance to the winners'
	// reports (default one minute).
	ResultTimeout time.Duration
	// CancelTimeout bounds how long Cancel waits for the participants'
	// answers to cancel (default ten seconds).
	CancelTimeout time.Duration
	// OnEvent, if set, sees every step as it happens. It runs on the
	// negotiation's goroutine (and, for EventAfterEnd, the client's): keep it
	// quick, and safe for concurrent negotiations.
	OnEvent func(Event)
	// Tracer, if set, traces each negotiation (cntrace.Tracer (package contractnet/cntrace)
	// makes it one OpenTelemetry span with the calls and answers inside).
	Tracer Tracer
}

// Negotiation is a running Contract Net started by Initiator.Start.
type Negotiation struct {
	in    *Initiator
	conv  *protocol.Conversation
	cfp   *acl.Message
	to    []acl.AgentID
	start time.Time

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	reason string // Cancel's reason; set once

	done chan struct{}
	res  *Result
	err  error

	// run state, owned by the negotiation goroutine
	roundOf    map[string]int // a call's reply-with → its round
	rounds     map[int]*Round
	answered   map[acl.AgentID]bool // in the current round
	winners    map[acl.AgentID]int  // → index in res.Outcomes, while pending
	cancelSent map[acl.AgentID]bool
	span       NegotiationSpan // nil without Initiator.Tracer
}

// Run starts a negotiation and waits for its end; see Start. The Result is
// nil only when the call could not start (the error says why: a bad cfp,
// ErrNoParticipants ...). A round whose participants were all unreachable
// ends without error and without winners: Round.Unreachable says why.
func (in *Initiator) Run(ctx context.Context, cfp *acl.Message) (*Result, error) {
	n, err := in.Start(ctx, cfp)
	if err != nil {
		return nil, err
	}
	return n.Wait()
}

// Start calls for proposals and returns at once; the negotiation runs on
// its own goroutine until it ends (Wait) or is cancelled (Cancel, or ctx).
//
// cfp's receivers are agents, topics (acl.Topic) and capabilities
// (Capability); each resolved participant gets its own copy of the call.
// cfp.ReplyBy is the proposal deadline and is required. The performative
// defaults to cfp, the protocol to fipa-contract-net, and the conversation
// id to a fresh one. Start owns cfp from then on.
func (in *Initiator) Start(ctx context.Context, cfp *acl.Message) (*Negotiation, error) {
	if in.Client == nil {
		return nil, errors.New("contractnet: Initiator.Client is nil")
	}
	if cfp == nil {
		return nil, &acl.FieldError{Field: "message", Reason: "nil"}
	}
	if cfp.Performative == 0 {
		cfp.Performative = acl.CFP
	}
	if cfp.Performative != acl.CFP {
		return nil, &acl.FieldError{Field: "performative", Reason: fmt.Sprintf("%s is not cfp", cfp.Performative)}
	}
	now := in.Client.Clock().Now()
	if cfp.ReplyBy.IsZero() {
		return nil, &acl.FieldError{Field: "reply_by", Reason: "a call for proposals needs a deadline"}
	}
	if !cfp.ReplyBy.After(now) {
		return nil, &acl.FieldError{Field: "reply_by", Reason: fmt.Sprintf("deadline %s has already passed", cfp.ReplyBy.Format(time.RFC3339Nano))}
	}
	if cfp.Protocol == "" {
		cfp.Protocol = protocol.FIPAContractNet
	}
	to, err := in.resolve(cfp.Receivers)
	if err != nil {
		return nil, err
	}
	conv, err := in.Client.Open(cfp.ConversationID)
	if err != nil {
		return nil, err
	}
	n := &Negotiation{
		in: in, conv: conv, cfp: cfp, to: to, start: now,
		done:       make(chan struct{}),
		res:        &Result{ConversationID: conv.ID()},
		roundOf:    map[string]int{},
		rounds:     map[int]*Round{},
		winners:    map[acl.AgentID]int{},
		cancelSent: map[acl.AgentID]bool{},
	}
	if in.Tracer != nil {
		cfp.Sender = in.Client.Name() // as the endpoint will stamp it
		ctx, n.span = in.Tracer.StartNegotiation(ctx, conv.ID(), cfp)
	}
	n.ctx, n.cancel = context.WithCancel(ctx)
	go n.run()
	return n, nil
}

// resolve expands topics and capabilities, dropping duplicates and the
// initiator itself.
func (in *Initiator) resolve(rs []acl.AgentID) ([]acl.AgentID, error) {
	self := in.Client.Name()
	seen := map[acl.AgentID]bool{self: true}
	var out []acl.AgentID
	add := func(ids ...acl.AgentID) {
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	for _, r := range rs {
		capName, isCap := cutPrefix(string(r), CapabilityPrefix)
		switch {
		case isCap && capName == "":
			return nil, &acl.FieldError{Field: "receiver", Reason: "Capability(\"\") names no capability"}
		case r.IsTopic() || isCap:
			if in.Directory == nil {
				return nil, &acl.FieldError{Field: "receiver", Reason: fmt.Sprintf("%q needs Initiator.Directory to resolve", r)}
			}
			if isCap {
				add(in.Directory.Capable(capName)...)
			} else {
				add(in.Directory.Subscribers(r.TopicName())...)
			}
		default:
			if err := r.Validate(); err != nil {
				return nil, &acl.FieldError{Field: "receiver", Reason: err.Error()}
			}
			add(r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: receivers %v resolve to no one", ErrNoParticipants, rs)
	}
	return out, nil
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

// ConversationID returns the negotiation's conversation-id.
func (n *Negotiation) ConversationID() string { return n.conv.ID() }

// Done is closed when the negotiation has ended.
func (n *Negotiation) Done() <-chan struct{} { return n.done }

// Wait waits for the end and returns the result: never nil, filled in as
// far as the negotiation got, with an error if it was cancelled
// (ErrCancelled, or ctx's error), the selector failed (ErrSelection), or the
// client closed.
func (n *Negotiation) Wait() (*Result, error) {
	<-n.done
	return n.res, n.err
}

// Cancel ends the negotiation at whatever point it is: everyone still in
// play (asked and not refused, or accepted and not reported) is sent a
// cancel with reason, and their answers (inform-done or failure) are
// collected into Result.CancelAcks for up to CancelTimeout. Cancelling an
// ended negotiation does nothing.
func (n *Negotiation) Cancel(reason string) {
	n.mu.Lock()
	if n.reason == "" {
		n.reason = cmpOr(reason, "cancelled by the initiator")
	}
	n.mu.Unlock()
	n.cancel()
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (n *Negotiation) emit(kind EventKind, round int, who acl.AgentID, m *acl.Message, reason string) {
	if n.in.OnEvent == nil && n.span == nil {
		return
	}
	e := Event{Time: n.in.Client.Clock().Now(), Conversation: n.conv.ID(), Round: round,
		Kind: kind, Participant: who, Message: m, Reason: reason}
	if n.span != nil {
		n.span.Event(e)
	}
	if n.in.OnEvent != nil {
		n.in.OnEvent(e)
	}
}

// sendCtx bounds the sends that end a negotiation, which must go out even
// when the caller's context has ended.
func (n *Negotiation) sendCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(n.ctx), 10*time.Second)
}

func (n *Negotiation) run() {
	defer close(n.done)
	defer n.cancel()
	defer n.endSpan()
	defer n.conv.EndWith(afterEnd(n.in, n.conv.ID()))
	defer n.drain()
	cfp, to := n.cfp, n.to
	for number := 1; ; number++ {
		r := n.call(cfp, to, number)
		if err := n.collect(r); err != nil {
			n.abort(err, r)
			return
		}
		if len(r.Proposals) == 0 {
			return // no one bid
		}
		d, err := n.selectFor(r)
		if err != nil {
			n.rejectAll(r, nil, "selection failed")
			n.err = fmt.Errorf("%w: %w", ErrSelection, err)
			return
		}
		r.Decision = d
		if d.Iterate == nil {
			n.award(r, d)
			break
		}
		n.rejectAll(r, d.Iterate.To, cmpOr(d.Reason, "not selected for the next round"))
		next := cfp.Clone()
		next.ID, next.CreatedAt, next.ReplyWith = acl.MessageID{}, time.Time{}, ""
		if d.Iterate.Content != nil {
			next.Content = d.Iterate.Content
		}
		next.ReplyBy = d.Iterate.ReplyBy
		if next.ReplyBy.IsZero() {
			next.ReplyBy = n.in.Client.Clock().Now().Add(n.cfp.ReplyBy.Sub(n.start))
		}
		n.emit(EventIterate, number+1, "", next, "")
		cfp, to = next, d.Iterate.To
	}
	if err := n.awaitResults(); err != nil {
		n.abort(err, nil)
	}
}

// drain handles what is already queued when the negotiation ends, so a
// late proposal that arrived in time to be seen is in the Result.
func (n *Negotiation) drain() {
	if errors.Is(n.err, protocol.ErrClosed) {
		return
	}
	for m, ok := n.conv.TryReceive(); ok; m, ok = n.conv.TryReceive() {
		n.phaseTwo(m)
	}
}

func (n *Negotiation) selectFor(r *Round) (d Decision, err error) {
	sel := n.in.Select
	if sel == nil {
		sel = LowestCost(1)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("selector panicked: %v", p)
		}
	}()
	if d, err = sel(n.ctx, r); err != nil {
		return d, err
	}
	if err := d.check(r); err != nil {
		return d, err
	}
	if it := d.Iterate; it != nil && !it.ReplyBy.IsZero() && !it.ReplyBy.After(n.in.Client.Clock().Now()) {
		return d, fmt.Errorf("contractnet: decision Iterate.ReplyBy %s has already passed", it.ReplyBy.Format(time.RFC3339Nano))
	}
	return d, nil
}

// foreign reports (and answers) a message routed here by in-reply-to that
// carries another conversation-id.
func (n *Negotiation) foreign(m *acl.Message) bool {
	if m.ConversationID == n.conv.ID() {
		return false
	}
	n.violation(m, fmt.Sprintf("conversation-id %q is not %q", m.ConversationID, n.conv.ID()))
	return true
}

// strayAnswer treats a message that does not fit the protocol's state: an
// answer to a reject or cancel is expected noise, anything else a violation.
func (n *Negotiation) strayAnswer(m *acl.Message) {
	if m.Performative == acl.NotUnderstood {
		// Never answered (no loops); still recorded.
		n.res.Violations = append(n.res.Violations, protocol.Violation{Message: m, Reason: "not-understood: " + string(m.Content)})
		n.emit(EventViolation, 0, m.Sender, m, string(m.Content))
		return
	}
	if n.cancelSent[m.Sender] && (m.Performative == acl.Inform || m.Performative == acl.Failure) {
		n.cancelAck(m)
		return
	}
	n.violation(m, fmt.Sprintf("%s is out of sequence", m.Performative))
}

func (n *Negotiation) violation(m *acl.Message, reason string) {
	n.res.Violations = append(n.res.Violations, protocol.Violation{Message: m, Reason: reason})
	n.emit(EventViolation, 0, m.Sender, m, reason)
	if m.Performative == acl.NotUnderstood {
		return
	}
	ctx, cancel := n.sendCtx()
	defer cancel()
	if err := n.in.Client.Answer(ctx, m, acl.NotUnderstood, reason); err != nil {
		n.emit(EventUnreachable, 0, m.Sender, m, err.Error()) // the violation is recorded; the answer failed
	}
}

// late rejects a proposal that missed its round's deadline.
func (n *Negotiation) late(r *Round, m *acl.Message) {
	p := Proposal{From: m.Sender, Round: r.Number, Message: m}
	r.Late = append(r.Late, p)
	n.res.Late = append(n.res.Late, p)
	reason := "late: the proposal arrived after the reply-by deadline"
	if m.CreatedAt.Before(r.Deadline) {
		// Sent in time but read after the round was decided (it was still
		// on its way when the deadline passed): late all the same.
		reason = "late: the proposal arrived after the round was decided"
	}
	n.emit(EventLate, r.Number, m.Sender, m, reason)
	n.reject(r.Number, m, reason)
}

// reject sends a reject-proposal answering m, a proposal of round.
func (n *Negotiation) reject(round int, m *acl.Message, reason string) {
	ctx, cancel := n.sendCtx()
	defer cancel()
	rj := m.CreateReplyWith(acl.RejectProposal, "")
	rj.Content, rj.Language = []byte(reason), "text/plain"
	rj.Encoding, rj.Ontology = "", ""
	if err := n.conv.Send(ctx, rj); err != nil {
		n.emit(EventUnreachable, round, m.Sender, rj, err.Error())
		return
	}
	n.emit(EventReject, round, m.Sender, rj, reason)
}

const (
	defaultResultTimeout = time.Minute
	defaultCancelTimeout = 10 * time.Second
)
