package caxton

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/caxton-go/caxton/acl"
)

// routing holds topic subscriptions and content rules. Both are read on
// every send and changed rarely, so readers load an immutable snapshot and
// writers copy it under a mutex.
type routing struct {
	mu     sync.Mutex
	topics atomic.Pointer[map[string][]endpoint]
	rules  atomic.Pointer[[]rule]
	ruleID atomic.Uint64
}

type rule struct {
	id     RuleID
	tmpl   acl.Template
	target acl.AgentID
}

// RuleID identifies a content rule, for RemoveRule.
type RuleID uint64

func (b *routing) init() {
	b.topics.Store(&map[string][]endpoint{})
	b.rules.Store(&[]rule{})
}

func (b *routing) removeRulesFor(target acl.AgentID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(*b.rules.Load()), func(r rule) bool { return r.target == target })
	b.rules.Store(&next)
}

// AddRule adds a content-based routing rule: every message sent from now on
// that matches tmpl is also delivered to target (once, even if it is also a
// direct receiver). The target must exist; removing it drops the rule.
// In a cluster (WithCluster) the rule applies to the messages sent through
// this runtime, and target may be an agent on another node: matching
// messages go to its queue there. Removing a remote target does not drop
// the rule (this runtime is not told): sends it matches then fail with
// ErrAgentNotFound until RemoveRule. After Close it returns ErrClosed.
func (rt *Runtime) AddRule(tmpl acl.Template, target acl.AgentID) (RuleID, error) {
	if tmpl == nil {
		return 0, specErr("tmpl", "nil template would route every message")
	}
	if err := rt.shutdown.enter(); err != nil {
		return 0, err
	}
	defer rt.shutdown.exit()
	if _, err := rt.endpointNamed(target); err != nil {
		if _, remote := rt.remoteAgent(target); !remote {
			return 0, err
		}
	}
	b := &rt.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	id := RuleID(b.ruleID.Add(1))
	next := append(slices.Clone(*b.rules.Load()), rule{id: id, tmpl: tmpl, target: target})
	b.rules.Store(&next)
	return id, nil
}

// RemoveRule removes a content rule. After Close it returns ErrClosed.
func (rt *Runtime) RemoveRule(id RuleID) error {
	if err := rt.shutdown.enter(); err != nil {
		return err
	}
	defer rt.shutdown.exit()
	b := &rt.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.rules.Load()
	next := slices.DeleteFunc(slices.Clone(old), func(r rule) bool { return r.id == id })
	if len(next) == len(old) {
		return fmt.Errorf("%w: %d", ErrRuleNotFound, id)
	}
	b.rules.Store(&next)
	return nil
}

// Send sends m from the host. Without a sender, m comes from the default
// host inbox (Runtime.Inbox), where replies then arrive. Send validates m (an
// error names the bad field), assigns its id and creation time, and queues
// it for every receiver: agents, inboxes, subscribers of topic receivers
// (acl.Topic) and matching content rules. It blocks while a receiver's
// mailbox is full and has the Block policy, until ctx ends or the runtime
// closes.
//
// Addressing is all-or-nothing: if any receiver is unknown, nothing is
// queued and the error wraps ErrAgentNotFound. Delivery failures after that
// (a full mailbox, ctx ended) are reported per receiver as *DeliveryError,
// joined. The runtime owns m after Send: do not modify it.
func (rt *Runtime) Send(ctx context.Context, m *acl.Message) error {
	return rt.hostSend(ctx, m, rt.hostOrigin())
}

// hostOrigin is the origin of host code's sends.
func (rt *Runtime) hostOrigin() origin {
	return origin{kind: originHost, name: rt.cfg.hostName}
}

// hostSend is a send by host code (the runtime's or an inbox's): it counts
// as a host call for Close, and a Close releases it if it blocks.
func (rt *Runtime) hostSend(ctx context.Context, m *acl.Message, o origin) error {
	if err := rt.shutdown.enter(); err != nil {
		return err
	}
	defer rt.shutdown.exit()
	return rt.send(ctx, m, o, rt.shutdown.closing)
}

// send stamps m with its origin and routes it: the one entry of every
// message into the bus. abort releases senders blocked on a full mailbox
// (the runtime's closing, for host senders).
func (rt *Runtime) send(ctx context.Context, m *acl.Message, o origin, abort <-chan struct{}) error {
	if ctx == nil {
		return errNilContext
	}
	if err := o.stamp(m); err != nil {
		if errors.Is(err, ErrForgedSender) {
			rt.auditf(AuditForged, subjectOf(o).String(), "send "+m.Performative.String(), targetsOf(m), false, err.Error(), traceID(ctx))
		}
		return err
	}
	return rt.route(ctx, m, o, nil, abort)
}

// route is the path every stamped message takes. w is the Request waiting
// for m's reply, if m is a request: routing tells it whom m reached before
// delivering. With telemetry on, the send is a producer span whose context
// the message carries on.
func (rt *Runtime) route(ctx context.Context, m *acl.Message, o origin, w *waiter, abort <-chan struct{}) error {
	if rt.tel == nil {
		return rt.routeMessage(ctx, m, o, w, abort)
	}
	sp := rt.tel.StartSend(ctx, m)
	err := rt.routeMessage(sp.Context(), m, o, w, abort)
	sp.EndSend(m, err)
	return err
}

func (rt *Runtime) routeMessage(ctx context.Context, m *acl.Message, o origin, w *waiter, abort <-chan struct{}) error {
	from := o.agent
	// Validate before stamping, so an id the runtime generates is not
	// re-checked: this is the hot path.
	if err := rt.validator.Validate(m); err != nil {
		return err
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = rt.stamps.now()
	}
	if m.ID.IsZero() {
		m.ID = rt.ids.New(m.CreatedAt)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if from != nil && from.quota != nil {
		if err := rt.checkQuota(from, m); err != nil {
			return err
		}
	}
	if rt.cfg.authorizer != nil {
		if err := rt.authorizeSend(ctx, m, o, m.Receivers); err != nil {
			return err
		}
	}
	receivers := m.Receivers
	answered := false
	if rt.reqs.tracking(m) {
		receivers, answered = rt.reqs.answer(m, rt.cfg.systemName)
	}

	var one [1]endpoint
	targets := one[:0]
	var missing []error
	toSystem := false
	rules := *rt.bus.rules.Load()
	for _, r := range receivers {
		if r.IsTopic() {
			if err := validateReceiver(r); err != nil {
				return err
			}
			subs := rt.remoteSubscribers(r.TopicName(), (*rt.bus.topics.Load())[r.TopicName()])
			if len(receivers) == 1 && len(rules) == 0 {
				targets = subs // an immutable snapshot: no copy needed
			} else {
				targets = append(targets, subs...)
			}
			continue
		}
		if ep, ok := rt.remoteReply(m, r); ok { // back to the node that asked (cluster.go)
			targets = append(targets, ep)
			continue
		}
		if ep, ok := rt.lookup(r); ok && !isInternal(ep) {
			targets = append(targets, ep) // registered, so its name was validated then
			continue
		}
		if r == rt.cfg.systemName {
			toSystem = true
			continue
		}
		if ep, ok := rt.lookupOffline(r); ok { // durable: waits for its agent
			targets = append(targets, ep)
			continue
		}
		if ep, ok := rt.remoteAgent(r); ok { // on another node (cluster.go)
			targets = append(targets, ep)
			continue
		}
		if err := validateReceiver(r); err != nil {
			return err
		}
		missing = append(missing, &DeliveryError{Receiver: r, Err: ErrAgentNotFound})
	}
	for _, ru := range rules {
		if !ru.tmpl.Match(m) {
			continue
		}
		if ep, ok := rt.lookup(ru.target); ok && !isInternal(ep) {
			targets = append(targets, ep)
		} else if ep, ok := rt.remoteAgent(ru.target); ok { // on another node (cluster.go)
			targets = append(targets, ep)
		} else {
			missing = append(missing, &DeliveryError{Receiver: ru.target, Err: ErrAgentNotFound})
		}
	}
	if len(missing) > 0 {
		err := errors.Join(missing...)
		rt.notifyFailure(from, m, err)
		return err
	}
	if len(receivers) > 1 || len(rules) > 0 && len(targets) > 1 {
		targets = dedupe(targets)
	}
	if toSystem {
		// The runtime's own address takes no mail (its notices are not
		// conversations). Answering one would bounce back as another notice,
		// so the message is dead-lettered instead, without a notice.
		rt.deadLetterUnrouted(m, rt.cfg.systemName, "addressed to the runtime's system name")
	}
	if len(targets) == 0 {
		if answered || toSystem {
			return nil
		}
		err := fmt.Errorf("%w: %v", ErrNoSubscribers, receivers)
		rt.notifyFailure(from, m, err)
		return err
	}
	if w != nil {
		w.reach(targets)
	}
	var errs []error
	for _, ep := range targets {
		mayBlock := o.kind != originSystem && (from == nil || ep != endpoint(from)) // an agent never waits for its own mailbox
		if err := ep.deliver(ctx, m, abort, mayBlock); err != nil {
			errs = append(errs, &DeliveryError{Receiver: ep.name(), Err: err})
		}
	}
	return errors.Join(errs...)
}

// validateReceiver checks the syntax of a receiver the router could not
// resolve (see acl.Validator.SkipReceiverNames), so a malformed name is
// reported as such rather than as unknown.
func validateReceiver(r acl.AgentID) error {
	if err := r.Validate(); err != nil {
		var fe *acl.FieldError
		if errors.As(err, &fe) {
			return &acl.FieldError{Field: "receiver", Reason: fe.Reason}
		}
		return err
	}
	return nil
}

// dedupe removes repeated endpoints, keeping first occurrences in order.
func dedupe(eps []endpoint) []endpoint {
	if len(eps) < 2 {
		return eps
	}
	if len(eps) <= 16 {
		out := eps[:0:0]
		for _, ep := range eps {
			if !slices.Contains(out, ep) {
				out = append(out, ep)
			}
		}
		return out
	}
	seen := make(map[endpoint]struct{}, len(eps))
	out := make([]endpoint, 0, len(eps))
	for _, ep := range eps {
		if _, ok := seen[ep]; !ok {
			seen[ep] = struct{}{}
			out = append(out, ep)
		}
	}
	return out
}
