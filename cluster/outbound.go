package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// agentDest is an agent of another node, reached through its JetStream
// queue. It is a comparable value, so routing's de-duplication sees two
// lookups of one agent as one destination.
type agentDest struct {
	n    *Node
	name acl.AgentID
}

func (d agentDest) Name() acl.AgentID { return d.name }

func (d agentDest) Deliver(ctx context.Context, m *acl.Message) error {
	return d.n.publishAgent(ctx, m, d.name)
}

// nodeDest is an inbox (or a waiting Request) on the node that sent a
// request, reached on that node's own subject.
type nodeDest struct {
	n    *Node
	node string
	name acl.AgentID
}

func (d nodeDest) Name() acl.AgentID { return d.name }

func (d nodeDest) Deliver(ctx context.Context, m *acl.Message) error {
	return d.n.publishDirect(ctx, m, d.node, d.name)
}

// Resolve implements caxton.Cluster: an agent in the directory that this
// node does not host. Its queue takes the message even while no live node
// hosts it (it waits for a Spawn).
func (n *Node) Resolve(receiver acl.AgentID) (caxton.Remote, bool) {
	r, ok := n.dir.resolve(receiver)
	if !ok {
		return nil, false
	}
	if _, here := r.Placements[n.name]; here {
		return nil, false // hosted here: the local agent serves it (or is being removed)
	}
	return agentDest{n: n, name: receiver}, true
}

// ReplyRoute implements caxton.Cluster: a message answering one that came
// from another node goes back there, to the inbox that asked.
func (n *Node) ReplyRoute(m *acl.Message, receiver acl.AgentID) (caxton.Remote, bool) {
	if _, agent := n.dir.lookup(receiver); agent {
		return nil, false // agents are found through the directory, wherever they moved
	}
	node, ok := n.replies.route(m, receiver)
	if !ok || node == n.name {
		return nil, false
	}
	return nodeDest{n: n, node: node, name: receiver}, true
}

// TopicSubscribers implements caxton.Cluster.
func (n *Node) TopicSubscribers(topic string) []caxton.Remote { return n.dir.topicSubscribers(topic) }

// Capable implements caxton.Cluster.
func (n *Node) Capable(capability string) []acl.AgentID { return n.dir.capable(capability) }

// pubOpts returns the publish options of one copy of m for to: with
// WithDeduplication, a JetStream message id (the message id and the
// receiver), so a copy published again after a lost acknowledgement is
// stored once.
func (n *Node) pubOpts(m *acl.Message, to acl.AgentID) []jetstream.PublishOpt {
	if !n.cfg.dedup {
		return nil
	}
	return []jetstream.PublishOpt{jetstream.WithMsgID(m.ID.String() + "/" + token(to))}
}

// publishAgent puts m into to's JetStream queue. Without WithAsyncPublish
// it returns when JetStream has stored it.
func (n *Node) publishAgent(ctx context.Context, m *acl.Message, to acl.AgentID) error {
	if n.closed.Load() {
		return ErrClosed
	}
	msg, err := seal(n.lay.agentSubject(to), n.name, n.key, to, m, n.cfg.maxBytes)
	if err != nil {
		return err
	}
	if err := n.awaitUp(ctx, to); err != nil {
		return err
	}
	opts := n.pubOpts(m, to)
	if n.acks == nil {
		return n.publishSync(ctx, msg, opts, to)
	}
	fut, err := n.js.PublishMsgAsync(msg, opts...)
	if err != nil {
		// The window is full or the connection dropped: wait for it the
		// synchronous way rather than fail a send that may yet succeed.
		return n.publishSync(ctx, msg, opts, to)
	}
	select {
	case n.acks <- pendingAck{fut: fut, msg: msg, m: m, to: to, opts: opts}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publishSync publishes msg and waits for its PubAck, retrying through a
// lost server or a leader election until WithSendTimeout. A retry after a
// lost acknowledgement may store the message twice (at-least-once), unless
// WithDeduplication.
func (n *Node) publishSync(ctx context.Context, msg *nats.Msg, opts []jetstream.PublishOpt, to acl.AgentID) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, n.cfg.sendTimeout)
	defer cancel()
	wait := 20 * time.Millisecond
	for {
		actx, acancel := context.WithTimeout(ctx, min(2*time.Second, n.cfg.sendTimeout))
		_, err := n.js.PublishMsg(actx, msg, opts...)
		acancel()
		if err == nil {
			return nil
		}
		if errors.Is(err, nats.ErrMaxPayload) {
			return errors.Join(ErrTooLarge, err)
		}
		if ctx.Err() != nil {
			return &UnavailableError{Op: "send", Receiver: string(to), Waited: time.Since(start), Err: err}
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		case <-n.done:
			return ErrClosed
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// pendingAck is an async publish awaiting its PubAck.
type pendingAck struct {
	fut  jetstream.PubAckFuture
	msg  *nats.Msg
	m    *acl.Message
	to   acl.AgentID
	opts []jetstream.PublishOpt
}

// trackAcks waits for the async publishes in order; a refused one is
// published again synchronously and, failing that, dead-lettered here.
func (n *Node) trackAcks() {
	defer n.wg.Done()
	for p := range n.acks {
		select {
		case <-p.fut.Ok():
			continue
		case err := <-p.fut.Err():
			if rerr := n.publishSync(n.ctx, p.msg, p.opts, p.to); rerr != nil {
				n.link.DeadLetter(p.m, p.to, "remote publish failed", errors.Join(err, rerr))
			}
		}
	}
}

// publishDirect sends m to an inbox on node over core NATS (see
// docs/design.md: an inbox is in memory on its node, so a durable queue in
// front of it would add a replicated write without making the delivery
// durable; a reply lost with its node ends the Request at its deadline).
func (n *Node) publishDirect(ctx context.Context, m *acl.Message, node string, to acl.AgentID) error {
	if n.closed.Load() {
		return ErrClosed
	}
	msg, err := seal(n.lay.nodeSubject(node), n.name, n.key, to, m, n.cfg.maxBytes)
	if err != nil {
		return err
	}
	if err := n.awaitUp(ctx, to); err != nil {
		return err
	}
	if err := n.nc.PublishMsg(msg); err != nil {
		return &UnavailableError{Op: "send", Receiver: string(to), Err: err}
	}
	return nil
}
