package caxton

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/telemetry"
)

// Cluster is the seam through which a runtime reaches agents hosted by
// other runtimes. Package cluster implements it on NATS JetStream; the root
// package knows nothing of the transport, so importing caxton stays light.
//
// The runtime consults a Cluster only where a local answer is incomplete:
// a receiver that is not a local agent (Resolve), a reply to a message
// that came from another node (ReplyRoute, asked before local names, since
// inbox names such as "host" exist on every node), topic subscribers and
// capabilities on other nodes, and Spawn/Remove (names are unique across
// the cluster). Messages arriving from other nodes enter through the
// ClusterLink given to Attach.
type Cluster interface {
	// Attach is called once by New, before New returns, with the link
	// through which the cluster delivers inbound messages. An error fails
	// New.
	Attach(link *ClusterLink) error
	// ReplyRoute reports whether receiver, named by m, is the sender of a
	// message that came from another node and m answers it (by in-reply-to
	// or conversation): the reply then goes back to that node. It is asked
	// before local names, and only for messages with an in-reply-to or a
	// conversation id.
	ReplyRoute(m *acl.Message, receiver acl.AgentID) (Remote, bool)
	// Resolve returns the remote agent named receiver, if another node
	// hosts (or last hosted) it. It is asked after local names.
	Resolve(receiver acl.AgentID) (Remote, bool)
	// TopicSubscribers returns the agents on other nodes subscribed to
	// topic (not those with a replica here: the local one is served).
	TopicSubscribers(topic string) []Remote
	// Capable returns the agents on other nodes that advertise capability.
	Capable(capability string) []acl.AgentID
	// Claim is called by Spawn once the agent is registered here, before it
	// starts: an error (wrapping ErrAgentExists when another node hosts a
	// different agent of that name) removes it again and fails the Spawn.
	Claim(ctx context.Context, spec AgentSpec) error
	// Release is called when a claimed agent is removed (or its Spawn
	// failed after the claim).
	Release(ctx context.Context, name acl.AgentID)
	// Close is called by Runtime.Close after the local agents drained; the
	// runtime owns the cluster from WithCluster on.
	Close(ctx context.Context) error
}

// Remote is an agent on another node, as a destination.
type Remote interface {
	// Name is the agent's name.
	Name() acl.AgentID
	// Deliver sends m to the agent. It may block (bounded by ctx) while
	// the transport is unavailable.
	Deliver(ctx context.Context, m *acl.Message) error
}

// WithCluster makes the runtime a node of a cluster (package
// github.com/caxton-go/caxton/cluster, a module of its own, on NATS JetStream):
// messages to agents on other nodes, topic subscribers and capabilities
// there, and replies to remote requesters take the same path as local
// ones. The runtime owns c and closes it on Close.
func WithCluster(c Cluster) Option {
	return func(cfg *config) error {
		if c == nil {
			return specErr("WithCluster", "nil cluster")
		}
		cfg.cluster = c
		return nil
	}
}

// ClusterLink is the runtime's side of a Cluster: how messages from other
// nodes enter it. Only Attach hands one out.
type ClusterLink struct{ rt *Runtime }

// Runtime returns the runtime this link delivers into.
func (l *ClusterLink) Runtime() *Runtime { return l.rt }

// Closing is closed when the runtime starts closing: a cluster stops
// taking messages from other nodes then, so the local drain can end.
func (l *ClusterLink) Closing() <-chan struct{} { return l.rt.shutdown.closing }

// SystemName is the sender of the runtime's own notices.
func (l *ClusterLink) SystemName() acl.AgentID { return l.rt.cfg.systemName }

// Deliver queues m, which another node sent, for the local agent or inbox
// to. onAck (may be nil) is called once m leaves the agent's queue for
// good — handled, or dead-lettered with the local record — which is when
// the cluster acknowledges it to the sender's transport; for an inbox, or
// a reply a waiting Request takes, it is called before Deliver returns.
// onReturn (may be nil) is called instead of onAck if m is still queued
// when the agent is removed here or the runtime closes: the cluster hands
// it back to its transport (another replica, or the agent's next Spawn,
// takes it) rather than the local dead letters.
// Deliver blocks while the agent's mailbox is full (ctx bounds it), which
// is the cluster's backpressure. m must be valid and carry its id and
// creation time: it was stamped on the sending node. to need not be among
// m's receivers: the sending node routed it (a topic, a content rule).
//
// Errors: ErrAgentNotFound (nobody here has that name), ErrAgentFailed,
// ErrMailboxFull (OverflowReject), ErrClosed, or m's validation error.
func (l *ClusterLink) Deliver(ctx context.Context, m *acl.Message, to acl.AgentID, onAck, onReturn func()) error {
	return l.deliver(ctx, m, to, onAck, onReturn, true)
}

// TryDeliver is Deliver that never waits for room: a full mailbox is
// ErrMailboxFull whatever the agent's overflow policy. A cluster delivers
// with it from the goroutine that takes messages off its transport — no
// hand-off while the agent keeps up — and hands what does not fit to a
// goroutine that waits with Deliver. With a durable store it still waits
// for the message to reach the disk (see Durable).
func (l *ClusterLink) TryDeliver(m *acl.Message, to acl.AgentID, onAck, onReturn func()) error {
	return l.deliver(context.Background(), m, to, onAck, onReturn, false)
}

// Durable reports whether the runtime's mailboxes are on disk (a durable
// store): queueing a message then waits for its sync, so one goroutine
// queueing many agents' messages one after another would pay a sync for
// each, where each agent's own goroutine shares syncs with the others.
func (l *ClusterLink) Durable() bool { return l.rt.isDurable() }

func (l *ClusterLink) deliver(ctx context.Context, m *acl.Message, to acl.AgentID, onAck, onReturn func(), mayBlock bool) error {
	rt := l.rt
	if ctx == nil {
		return errNilContext
	}
	if err := rt.shutdown.enter(); err != nil {
		return err
	}
	defer rt.shutdown.exit()
	if m == nil {
		return &acl.FieldError{Field: "message", Reason: "nil"}
	}
	if err := rt.validator.Validate(m); err != nil {
		return err
	}
	if m.ID.IsZero() || m.CreatedAt.IsZero() || m.Sender == "" {
		return &acl.FieldError{Field: "message", Reason: "a message from another node must carry its id, creation time and sender"}
	}
	done := func() {
		if onAck != nil {
			onAck()
		}
	}
	if rt.reqs.tracking(m) {
		one := *m // answer only for to: the other receivers are served by their own copies
		one.Receivers = []acl.AgentID{to}
		if _, taken := rt.reqs.answer(&one, rt.cfg.systemName); taken {
			done()
			return nil
		}
	}
	ep, ok := rt.lookup(to)
	if !ok || isInternal(ep) {
		return fmt.Errorf("%w: %q", ErrAgentNotFound, to)
	}
	a, isAgent := ep.(*agent)
	if !isAgent {
		if err := ep.deliver(ctx, m, rt.shutdown.closing, mayBlock); err != nil {
			return err
		}
		done()
		return nil
	}
	if a.state() == StateFailed && !rt.isDurable() {
		return ErrAgentFailed
	}
	return a.push(ctx, store.Envelope{Msg: m, Receiver: to, Enqueued: m.CreatedAt, OnAck: onAck, OnReturn: onReturn}, rt.shutdown.closing, mayBlock)
}

// Awaited reports whether m is the message of a Request waiting here for
// its reply (the runtime's, an inbox's or an agent's): a cluster may carry
// such a message on a faster path that is not durable, since a lost one
// ends its Request at the deadline (package cluster's WithDirectRequests).
func (l *ClusterLink) Awaited(m *acl.Message) bool {
	r := &l.rt.reqs
	if m == nil || m.ReplyWith == "" || r.waiting.Load() == 0 {
		return false
	}
	r.mu.Lock()
	w := r.byReplyWith[m.ReplyWith]
	r.mu.Unlock()
	return w != nil
}

// DeadLetter records a message the cluster could not deliver to receiver
// (say, its transport refused it after every retry), through the runtime's
// dead-letter queue and hook, and answers its requester as a local dead
// letter is answered.
func (l *ClusterLink) DeadLetter(m *acl.Message, receiver acl.AgentID, reason string, cause error) {
	rt := l.rt
	d := DeadLetter{Message: m, Receiver: receiver, Reason: reason, At: rt.clock.Now()}
	d.ID = rt.ids.New(d.At).String()
	if cause != nil {
		d.LastError = cause.Error()
	}
	ctx := telemetry.Extract(rt.shutdown.base, m) // for the log lines' trace id
	if err := rt.dlq.Add(context.WithoutCancel(ctx), d); err != nil {
		rt.logger.ErrorContext(ctx, "dead-letter queue refused a message; it is lost", "error", err, "message_id", m.ID, "reason", reason)
		return
	}
	rt.logger.WarnContext(ctx, "message dead-lettered", "message_id", m.ID, "receiver", string(receiver), "reason", reason, "last_error", d.LastError)
	rt.runDeadLetterHook(d)
	rt.noticeDeadLetter(d)
}

// remoteEndpoint makes a Remote routable like a local endpoint.
type remoteEndpoint struct{ r Remote }

func (e remoteEndpoint) name() acl.AgentID { return e.r.Name() }

func (e remoteEndpoint) deliver(ctx context.Context, m *acl.Message, _ <-chan struct{}, _ bool) error {
	return e.r.Deliver(ctx, m)
}

// attachCluster hands the configured cluster its link.
func (rt *Runtime) attachCluster() error {
	if rt.cfg.cluster == nil {
		return nil
	}
	if err := rt.cfg.cluster.Attach(&ClusterLink{rt: rt}); err != nil {
		return fmt.Errorf("caxton: joining the cluster: %w", err)
	}
	return nil
}

// remoteReply is routing's first question for a receiver when a cluster is
// set: is this a reply going back to another node?
func (rt *Runtime) remoteReply(m *acl.Message, r acl.AgentID) (endpoint, bool) {
	c := rt.cfg.cluster
	if c == nil || m.InReplyTo == "" && m.ConversationID == "" {
		return nil, false
	}
	if rem, ok := c.ReplyRoute(m, r); ok {
		return remoteEndpoint{rem}, true
	}
	return nil, false
}

// remoteAgent is routing's last question for a receiver nobody here has.
func (rt *Runtime) remoteAgent(r acl.AgentID) (endpoint, bool) {
	if c := rt.cfg.cluster; c != nil {
		if rem, ok := c.Resolve(r); ok {
			return remoteEndpoint{rem}, true
		}
	}
	return nil, false
}

// remoteSubscribers appends topic's subscribers on other nodes to subs.
func (rt *Runtime) remoteSubscribers(topic string, subs []endpoint) []endpoint {
	c := rt.cfg.cluster
	if c == nil {
		return subs
	}
	remote := c.TopicSubscribers(topic)
	if len(remote) == 0 {
		return subs
	}
	out := slices.Clone(subs) // subs may be the immutable snapshot
	for _, r := range remote {
		out = append(out, remoteEndpoint{r})
	}
	return out
}

// remoteCapable adds the agents on other nodes advertising capability to
// the local ones, sorted and without repeats.
func (rt *Runtime) remoteCapable(capability string, local []acl.AgentID) []acl.AgentID {
	out := local
	if c := rt.cfg.cluster; c != nil {
		out = append(out, c.Capable(capability)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// claim asks the cluster for spec's name before Spawn starts the agent.
func (rt *Runtime) claim(ctx context.Context, spec AgentSpec, internal bool) error {
	if rt.cfg.cluster == nil || internal {
		return nil
	}
	if err := rt.cfg.cluster.Claim(ctx, spec); err != nil {
		if errors.Is(err, ErrAgentExists) {
			return err
		}
		return fmt.Errorf("caxton: spawn %q: the cluster refused the name: %w", spec.Name, err)
	}
	return nil
}

// release gives a claimed name back to the cluster.
func (rt *Runtime) release(ctx context.Context, a *agent) {
	if rt.cfg.cluster != nil && !a.internal {
		rt.cfg.cluster.Release(context.WithoutCancel(ctx), a.name())
	}
}

// closeCluster closes the cluster last, after the drain (agents may still
// have been sending to other nodes).
func (rt *Runtime) closeCluster(ctx context.Context) error {
	if rt.cfg.cluster == nil {
		return nil
	}
	if err := rt.cfg.cluster.Close(ctx); err != nil {
		return fmt.Errorf("caxton: close cluster: %w", err)
	}
	return nil
}
