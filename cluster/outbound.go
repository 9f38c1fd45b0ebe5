package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
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
	if d.n.cfg.direct && d.n.link.Awaited(m) {
		if node := d.n.dir.home(d.name); node != parkNode {
			return d.n.publishDirect(ctx, m, node, d.name)
		}
	}
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

// pubOpts returns the publish options of one frame (ms[i] for to[i]):
// with WithDeduplication, a JetStream message id naming exactly what the
// frame carries (a digest of each message's id and receiver), so a frame
// published again after a lost acknowledgement is stored once — and only
// that frame: a digest of its first message alone would make a later
// frame that begins with the same message (a dead letter replayed within
// the window) a "duplicate" and drop the rest of it.
func (n *Node) pubOpts(ms []*acl.Message, to []acl.AgentID) []jetstream.PublishOpt {
	if !n.cfg.dedup {
		return nil
	}
	h := sha256.New()
	for i, m := range ms {
		h.Write(m.ID[:])
		h.Write([]byte(to[i]))
		h.Write([]byte{0}) // agent names hold no NUL
	}
	return []jetstream.PublishOpt{jetstream.WithMsgID(hex.EncodeToString(h.Sum(nil)[:16]))}
}

// publishAgent queues m for to's JetStream queue, in the outbox of the
// node its mail goes to (see outbox and directory.home). Without
// WithAsyncPublish it returns when JetStream has stored the frame that
// carried m; with it, once m is queued within the window.
func (n *Node) publishAgent(ctx context.Context, m *acl.Message, to acl.AgentID) error {
	if n.closed.Load() {
		return ErrClosed
	}
	size := abi.EncodedSize(m) + receiverSize(to)
	if size+frameOverhead > n.cfg.maxBytes {
		return fmt.Errorf("%w: %d bytes encoded, the limit is %d", ErrTooLarge, size+frameOverhead, n.cfg.maxBytes)
	}
	if err := n.awaitUp(ctx, to); err != nil {
		return err
	}
	it := outItem{m: m, to: to, size: size}
	if n.window != nil {
		select { // a slot of the window, given back when the frame's PubAck came
		case n.window <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-n.done:
			return ErrClosed
		}
	} else {
		it.done = make(chan error, 1)
	}
	if err := n.enqueue(n.dir.home(to), it); err != nil {
		if n.window != nil {
			<-n.window
		}
		return err
	}
	if it.done == nil {
		return nil
	}
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done(): // the frame may still be stored: the outcome is unknown
		return &UnavailableError{Op: "send", Receiver: string(to), Err: ctx.Err()}
	}
}

// publishSync publishes msg and waits for its PubAck, retrying through a
// lost server or a leader election until WithSendTimeout. A retry after a
// lost acknowledgement may store the message twice (at-least-once), unless
// WithDeduplication. to names the receiver in an *UnavailableError ("" for
// a frame of several; see forReceiver).
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

// pendingAck is an async frame awaiting its PubAck.
type pendingAck struct {
	fut   jetstream.PubAckFuture
	msg   *nats.Msg
	items []outItem
	opts  []jetstream.PublishOpt
}

// trackAcks waits for the async frames in order; a refused one is
// published again synchronously and, failing that, its messages are
// dead-lettered here. Either way their window slots are given back.
func (n *Node) trackAcks() {
	defer n.wg.Done()
	for p := range n.acks {
		var err error
		select {
		case <-p.fut.Ok():
		case err = <-p.fut.Err():
			if rerr := n.publishSync(n.ctx, p.msg, p.opts, ""); rerr != nil {
				err = errors.Join(err, rerr)
			} else {
				err = nil
			}
		}
		n.settleAsync(p.items, err)
	}
}

// settleAsync ends async items: dead-lettered if their frame failed, and
// their window slots given back.
func (n *Node) settleAsync(items []outItem, err error) {
	for _, it := range items {
		if err != nil {
			n.link.DeadLetter(it.m, it.to, "remote publish failed", forReceiver(err, it.to))
		}
		<-n.window
	}
}

// forReceiver names to in err if it is an *UnavailableError of a frame
// (which carries messages for several receivers and names none), so each
// sender's error names its own receiver.
func forReceiver(err error, to acl.AgentID) error {
	ue, ok := err.(*UnavailableError) // as publishSync returns it
	if !ok || ue.Receiver != "" {
		return err
	}
	named := *ue
	named.Receiver = string(to)
	return &named
}

// publishDirect sends m to an inbox on node over core NATS (see
// docs/design.md: an inbox is in memory on its node, so a durable queue in
// front of it would add a replicated write without making the delivery
// durable; a reply lost with its node ends the Request at its deadline),
// or, with WithDirectRequests, a waiting Request's message to the node
// hosting its receiver.
func (n *Node) publishDirect(ctx context.Context, m *acl.Message, node string, to acl.AgentID) error {
	if n.closed.Load() {
		return ErrClosed
	}
	msg, err := seal(n.lay.nodeSubject(node), n.name, n.key, []acl.AgentID{to}, []*acl.Message{m}, n.cfg.maxBytes)
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
