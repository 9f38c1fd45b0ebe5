package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// hosted is an agent this node hosts: its consumer and the messages taken
// from it that its handlers have not finished.
type hosted struct {
	n      *Node
	name   acl.AgentID
	cc     jetstream.ConsumeContext
	placed Placement // as last written to the directory

	mu       sync.Mutex
	inFlight map[jetstream.Msg]time.Time // taken, not yet acknowledged: since when
}

// Claim implements caxton.Cluster: the name must be free in the cluster,
// taken over from nodes that are down, or the same agent (more replicas).
// The node then consumes the agent's JetStream queue, shared with its
// replicas on other nodes.
func (n *Node) Claim(ctx context.Context, spec caxton.AgentSpec) error {
	if n.closed.Load() {
		return ErrClosed
	}
	if err := n.dir.claim(ctx, spec); err != nil {
		return err
	}
	h := &hosted{n: n, name: spec.Name, inFlight: map[jetstream.Msg]time.Time{},
		placed: Placement{Replicas: max(spec.Replicas, 1), State: caxton.StateRunning.String(), Topics: spec.Topics}}
	if err := h.startConsuming(ctx); err != nil {
		_ = n.dir.update(context.WithoutCancel(ctx), spec.Name, true, func(*Placement) bool { return false })
		return fmt.Errorf("consuming the queue of %q: %w", spec.Name, err)
	}
	n.hmu.Lock()
	n.hosted[spec.Name] = h
	n.hmu.Unlock()
	return nil
}

// Release implements caxton.Cluster: the agent was removed here. The node
// stops consuming its queue and withdraws; when no node hosts it any more,
// its directory entry goes (the name is free), while messages still in its
// queue stay there for a later Spawn of the name.
func (n *Node) Release(ctx context.Context, name acl.AgentID) {
	n.hmu.Lock()
	h := n.hosted[name]
	delete(n.hosted, name)
	n.hmu.Unlock()
	if h == nil {
		return
	}
	h.stopConsuming()
	ctx, cancel := context.WithTimeout(ctx, n.cfg.sendTimeout)
	defer cancel()
	if err := n.dir.update(ctx, name, true, func(*Placement) bool { return false }); err != nil {
		n.logger.Warn("cluster: withdrawing a removed agent from the directory", "agent", name, "error", err)
	}
}

func (h *hosted) startConsuming(ctx context.Context) error {
	n := h.n
	cfg := jetstream.ConsumerConfig{
		Durable:       consumerName(h.name),
		Description:   "Caxton agent " + string(h.name),
		FilterSubject: n.lay.agentSubject(h.name),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       n.cfg.ackWait,
		MaxDeliver:    -1, // the agent's own retry policy decides when to give up
		MaxAckPending: n.cfg.maxAckPending,
		Replicas:      n.replicas,
	}
	cons, err := kvTry(ctx, func(ctx context.Context) (jetstream.Consumer, error) {
		return n.js.CreateOrUpdateConsumer(ctx, n.lay.stream, cfg)
	})
	if err != nil {
		return err
	}
	h.cc, err = cons.Consume(h.receive,
		jetstream.PullMaxMessages(min(n.cfg.maxAckPending, 512)),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !errors.Is(err, jetstream.ErrNoHeartbeat) || n.closed.Load() {
				n.logger.Debug("cluster: consumer", "agent", h.name, "error", err)
			}
		}))
	return err
}

func (h *hosted) stopConsuming() {
	if h.cc != nil {
		h.cc.Stop()
	}
}

// receive handles one frame from the agent's queue: verify it, queue its
// messages for the local agent, and acknowledge it when every handler is
// done (see frame).
func (h *hosted) receive(msg jetstream.Msg) {
	n := h.n
	o, rej, err := open(msg.Subject(), msg.Headers(), msg.Data(), n.cfg.maxBytes, n.dir.keyOf)
	if err != nil { // the key could not be fetched: NATS is away; try again later
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if rej == nil && o.to != h.name {
		rej = &Rejection{Subject: msg.Subject(), Node: o.node, Reason: fmt.Sprintf("receiver %q does not match the queue of %q", o.to, h.name), Size: len(msg.Data())}
	}
	if rej != nil {
		n.reject(*rej)
		_ = msg.Term() // never again: no node would accept it
		return
	}
	h.mu.Lock()
	h.inFlight[msg] = time.Now()
	h.mu.Unlock()
	f := &frame{h: h, msg: msg}
	f.pending.Store(int64(len(o.msgs)) + 1) // + this loop's own
	for _, m := range o.msgs {
		if f.again.Load() { // an earlier one could not be queued: the frame comes again
			f.settle()
			continue
		}
		if !n.dir.mayspeak(o.node, m.Sender) {
			n.reject(Rejection{Subject: msg.Subject(), Node: o.node, Reason: fmt.Sprintf("node does not host the sender %q", m.Sender), Size: len(msg.Data())})
			f.settle()
			continue
		}
		n.replies.note(m, o.node)
		err := n.link.Deliver(n.ctx, m, h.name, f.settle)
		if err == nil {
			continue
		}
		switch {
		case errors.Is(err, acl.ErrInvalid):
			n.reject(Rejection{At: time.Now(), Subject: msg.Subject(), Node: o.node, Reason: "invalid message: " + err.Error(), Size: len(msg.Data())})
			n.link.DeadLetter(m, h.name, "invalid message from another node", err)
		case errors.Is(err, caxton.ErrAgentFailed):
			n.link.DeadLetter(m, h.name, "agent failed", err)
		default: // removed or closing here: another replica, or the next Spawn, takes the frame
			f.again.Store(true)
		}
		f.settle()
	}
	f.settle()
}

// frame is a JetStream message of an agent's queue being handled: its
// messages count down as they leave the agent's mailbox for good (handled,
// or dead-lettered with the local record), and the last one acknowledges
// it to JetStream — or, if one of them could not be queued here, asks for
// it again, so that nothing of it is lost (those already handled come
// again: at-least-once).
type frame struct {
	h       *hosted
	msg     jetstream.Msg
	pending atomic.Int64
	again   atomic.Bool
}

func (f *frame) settle() {
	if f.pending.Add(-1) != 0 {
		return
	}
	h := f.h
	h.mu.Lock()
	delete(h.inFlight, f.msg)
	h.mu.Unlock()
	if f.again.Load() {
		_ = f.msg.NakWithDelay(200 * time.Millisecond)
		return
	}
	if err := f.msg.Ack(); err != nil {
		h.n.logger.Debug("cluster: ack failed; the frame will come again", "agent", h.name, "error", err)
	}
}

// extendInFlight tells JetStream that messages held longer than a third
// of the ack wait (a handler retrying with backoff, a long queue) are still
// being worked on, so they are not given to another replica meanwhile.
func (n *Node) extendInFlight() {
	n.hmu.Lock()
	hs := make([]*hosted, 0, len(n.hosted))
	for _, h := range n.hosted {
		hs = append(hs, h)
	}
	n.hmu.Unlock()
	cutoff := time.Now().Add(-n.cfg.ackWait / 3)
	for _, h := range hs {
		h.mu.Lock()
		var old []jetstream.Msg
		for m, since := range h.inFlight {
			if since.Before(cutoff) {
				old = append(old, m)
				h.inFlight[m] = time.Now()
			}
		}
		h.mu.Unlock()
		for _, m := range old {
			_ = m.InProgress()
		}
	}
}

// receiveDirect handles a message on the node's own subject: a reply or
// notice for a local inbox or waiting Request.
func (n *Node) receiveDirect(msg *nats.Msg) {
	o, rej, err := open(msg.Subject, msg.Header, msg.Data, n.cfg.maxBytes, n.dir.keyOf)
	if err != nil { // a reply whose key cannot be fetched now: its Request ends at its deadline
		n.logger.Warn("cluster: dropping a reply: the sender's key could not be fetched", "subject", msg.Subject, "error", err)
		return
	}
	if rej != nil {
		n.reject(*rej)
		return
	}
	for _, m := range o.msgs {
		if !n.dir.mayspeak(o.node, m.Sender) {
			n.reject(Rejection{Subject: msg.Subject, Node: o.node, Reason: fmt.Sprintf("node does not host the sender %q", m.Sender), Size: len(msg.Data)})
			continue
		}
		n.replies.note(m, o.node)
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.sendTimeout)
		err := n.link.Deliver(ctx, m, o.to, nil)
		cancel()
		if err != nil {
			if errors.Is(err, acl.ErrInvalid) {
				n.reject(Rejection{At: time.Now(), Subject: msg.Subject, Node: o.node, Reason: "invalid message: " + err.Error(), Size: len(msg.Data)})
			}
			n.link.DeadLetter(m, o.to, "undeliverable reply from another node", err)
		}
	}
}

// reject records a refused message.
func (n *Node) reject(r Rejection) {
	if r.At.IsZero() {
		r.At = time.Now()
	}
	n.rejN.Add(1)
	n.rejMu.Lock()
	if len(n.rejected) >= rejectKeep {
		n.rejected = append(n.rejected[:0], n.rejected[1:]...)
	}
	n.rejected = append(n.rejected, r)
	n.rejMu.Unlock()
	n.logger.Warn("cluster: message rejected", "subject", r.Subject, "node", r.Node, "reason", r.Reason, "bytes", r.Size)
	if n.cfg.onReject != nil {
		n.cfg.onReject(r)
	}
}
