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

// hosted is an agent this node hosts: the frames for it that the node's
// consumer took and its worker has not yet queued, and those queued whose
// handlers have not finished.
type hosted struct {
	n      *Node
	name   acl.AgentID
	placed Placement // as last written to the directory
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // a frame was queued
	done   chan struct{} // the worker ended

	mu       sync.Mutex
	queue    []jetstream.Msg             // taken from the node's consumer, for the worker
	stopped  bool                        // Release or Close: nothing queues any more
	inFlight map[jetstream.Msg]time.Time // taken (queued for the worker or in the mailbox), not yet acknowledged: since when
}

// Claim implements caxton.Cluster: the name must be free in the cluster,
// taken over from nodes that are down, or the same agent (more replicas).
// Its mail then comes through the node's own consumer (see docs/design.md,
// "Subjects and streams"); the agent is registered here before the
// directory names this node, so no frame finds it missing.
func (n *Node) Claim(ctx context.Context, spec caxton.AgentSpec) error {
	if n.closed.Load() {
		return ErrClosed
	}
	h := &hosted{n: n, name: spec.Name, inFlight: map[jetstream.Msg]time.Time{}, wake: make(chan struct{}, 1), done: make(chan struct{}),
		placed: Placement{Replicas: max(spec.Replicas, 1), State: caxton.StateRunning.String(), Topics: spec.Topics}}
	h.ctx, h.cancel = context.WithCancel(n.ctx)
	n.hmu.Lock()
	if n.hosted[spec.Name] != nil {
		n.hmu.Unlock()
		return fmt.Errorf("%w: %q is already hosted on this node", caxton.ErrAgentExists, spec.Name)
	}
	n.hosted[spec.Name] = h
	n.hmu.Unlock()
	go h.work()
	if err := n.dir.claim(ctx, spec); err != nil {
		n.unhost(h)
		return err
	}
	return nil
}

// Release implements caxton.Cluster: the agent was removed here. The node
// withdraws its placement; when no node hosts it any more, its directory
// entry goes (the name is free). Frames for it that reach this node later
// (or that it held) go on to another replica, or wait for a later Spawn of
// the name (see elsewhere).
func (n *Node) Release(ctx context.Context, name acl.AgentID) {
	n.hmu.Lock()
	h := n.hosted[name]
	n.hmu.Unlock()
	if h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.sendTimeout)
	defer cancel()
	if err := n.dir.update(ctx, name, true, func(*Placement) bool { return false }); err != nil {
		n.logger.Warn("cluster: withdrawing a removed agent from the directory", "agent", name, "error", err)
	}
	n.unhost(h)
}

// unhost forgets h and ends its worker; the frames it had not queued go
// back to JetStream at once.
func (n *Node) unhost(h *hosted) {
	n.hmu.Lock()
	if n.hosted[h.name] == h {
		delete(n.hosted, h.name)
	}
	n.hmu.Unlock()
	h.stop()
}

// push queues a frame for h's worker, unless h is stopped. From now on
// it is in flight: a worker behind a slow agent must not let it be given
// to another node (extendInFlight).
func (h *hosted) push(msg jetstream.Msg) bool {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return false
	}
	h.queue = append(h.queue, msg)
	h.inFlight[msg] = time.Now()
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return true
}

// work verifies h's frames and queues their messages for the local agent,
// in the order the node's consumer took them (per sender→receiver order).
// One worker per agent: a full mailbox holds up that agent's frames, not
// every agent of the node, and verification runs on every core.
func (h *hosted) work() {
	defer close(h.done)
	for {
		h.mu.Lock()
		if len(h.queue) == 0 || h.stopped {
			h.mu.Unlock()
			select {
			case <-h.wake:
				continue
			case <-h.ctx.Done():
				return
			}
		}
		msg := h.queue[0]
		h.queue[0] = nil
		h.queue = h.queue[1:]
		if len(h.queue) == 0 {
			h.queue = nil
		}
		h.mu.Unlock()
		h.receive(msg)
	}
}

// stop ends the worker; frames it had not taken are negatively
// acknowledged, so they come again (to another replica or a later Spawn).
func (h *hosted) stop() {
	h.mu.Lock()
	h.stopped = true
	q := h.queue
	h.queue = nil
	for _, msg := range q {
		delete(h.inFlight, msg)
	}
	h.mu.Unlock()
	h.cancel()
	<-h.done
	for _, msg := range q {
		_ = msg.Nak()
	}
}

// consumeMail handles one frame from a mail consumer: this node's own, or
// one it adopted (origin: the node whose subjects it serves, or parkNode).
// A frame for an agent hosted here goes to that agent's worker; any other
// is routed on (elsewhere). The receiver header only picks the worker: the
// worker verifies it with the rest of the frame.
func (n *Node) consumeMail(origin string) func(jetstream.Msg) {
	return func(msg jetstream.Msg) {
		to := acl.AgentID(msg.Headers().Get(hdrTo))
		n.hmu.Lock()
		h := n.hosted[to]
		n.hmu.Unlock()
		if h != nil && h.push(msg) {
			return
		}
		n.elsewhere(origin, msg)
	}
}

// elsewhere routes a frame for an agent not hosted here: to a live node
// hosting it (forwarded, then acknowledged); if it waits for a takeover of
// origin's agent or for this node's Spawn or Release in progress, it comes
// again after a while; otherwise (no node hosts the agent: removed, or its
// nodes closed) it moves to the park, which one live node serves and where
// it waits for a Spawn of the name.
func (n *Node) elsewhere(origin string, msg jetstream.Msg) {
	o, rej, err := n.openMail(msg)
	if err != nil { // a key could not be fetched: NATS is away
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if rej != nil {
		n.reject(*rej)
		_ = msg.Term()
		return
	}
	target, wait := n.dir.route(o.to, origin)
	if target == "" && !wait && origin != parkNode {
		target = parkNode
	}
	if target == "" || target == origin {
		_ = msg.NakWithDelay(n.retryDelay(msg, origin == parkNode))
		return
	}
	if err := n.forward(msg, target, o.to); err != nil {
		n.logger.Debug("cluster: forwarding a frame failed; it will come again", "to", o.to, "node", target, "error", err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if err := msg.Ack(); err != nil {
		n.logger.Debug("cluster: ack of a forwarded frame failed; it will come again", "to", o.to, "error", err)
	}
}

// retryDelay is how long a frame waiting for its agent stays away: from
// 100 ms, doubling with each delivery, up to 5 s — 30 s in the park, whose
// frames may wait for a Spawn that never comes (each return costs a
// redelivery).
func (n *Node) retryDelay(msg jetstream.Msg, parked bool) time.Duration {
	k := uint64(1)
	if md, err := msg.Metadata(); err == nil {
		k = max(md.NumDelivered, 1)
	}
	limit := 5 * time.Second
	if parked {
		limit = 30 * time.Second
	}
	return min(100*time.Millisecond<<min(k-1, 9), limit)
}

// forward publishes a frame, unchanged, to node's subject for to. The
// signature covers the subject it was first published on; the frame
// carries it in Caxton-Subject, and a receiver accepts it only if it names
// the same agent (openMail).
func (n *Node) forward(msg jetstream.Msg, node string, to acl.AgentID) error {
	fm := nats.NewMsg(n.lay.mailSubject(node, to))
	fm.Data = msg.Data()
	h := msg.Headers()
	for _, k := range []string{hdrNode, hdrTo, hdrSig, hdrKey, hdrSubject} {
		if v := h.Get(k); v != "" {
			fm.Header.Set(k, v)
		}
	}
	if fm.Header.Get(hdrSubject) == "" {
		fm.Header.Set(hdrSubject, msg.Subject())
	}
	return n.publishSync(n.ctx, fm, nil, to)
}

// openMail verifies a frame from a mail subject: the signature over the
// subject it was signed for (its own, or Caxton-Subject if forwarded),
// both mail subjects of the agent the frame is for.
func (n *Node) openMail(msg jetstream.Msg) (opened, *Rejection, error) {
	subject, h := msg.Subject(), msg.Headers()
	signed := subject
	if v := h.Get(hdrSubject); v != "" {
		signed = v
	}
	_, tok, ok := n.lay.mailParts(subject)
	_, stok, sok := n.lay.mailParts(signed)
	if !ok || !sok || tok != stok {
		return opened{}, &Rejection{At: time.Now(), Subject: subject, Node: h.Get(hdrNode), Reason: fmt.Sprintf("signed for subject %.128q, not this agent's mail", signed), Size: len(msg.Data())}, nil
	}
	o, rej, err := open(signed, h, msg.Data(), n.cfg.maxBytes, n.dir.keyOf)
	if rej != nil {
		rej.Subject = subject
	}
	if err == nil && rej == nil && token(o.to) != tok {
		rej = &Rejection{At: time.Now(), Subject: subject, Node: o.node, Reason: fmt.Sprintf("receiver %q does not match the subject", o.to), Size: len(msg.Data())}
	}
	return o, rej, err
}

// receive handles one frame for h: verify it, queue its messages for the
// local agent, and acknowledge it when every handler is done (see frame).
func (h *hosted) receive(msg jetstream.Msg) {
	n := h.n
	o, rej, err := n.openMail(msg)
	if err == nil && rej == nil && o.to != h.name {
		rej = &Rejection{Subject: msg.Subject(), Node: o.node, Reason: fmt.Sprintf("receiver %q does not match the queue of %q", o.to, h.name), Size: len(msg.Data())}
	}
	if err != nil || rej != nil {
		h.mu.Lock()
		delete(h.inFlight, msg)
		h.mu.Unlock()
	}
	if err != nil { // the key could not be fetched: NATS is away; try again later
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if rej != nil {
		n.reject(*rej)
		_ = msg.Term() // never again: no node would accept it
		return
	}
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
		err := n.link.Deliver(h.ctx, m, h.name, f.settle, f.giveBack)
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

// giveBack settles a message the runtime hands back (its agent removed
// here, or the runtime closing with it still queued): the frame comes
// again, to another replica or a later Spawn.
func (f *frame) giveBack() {
	f.again.Store(true)
	f.settle()
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
		_ = f.msg.NakWithDelay(200 * time.Millisecond) // back to this node's consumer, which routes it on
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
// notice for a local inbox or waiting Request, or (WithDirectRequests) a
// Request's message for an agent hosted here.
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
		err := n.link.Deliver(ctx, m, o.to, nil, nil)
		if errors.Is(err, caxton.ErrAgentNotFound) {
			if _, agent := n.dir.lookup(o.to); agent { // a direct request for an agent that moved: its queue takes it
				err = n.publishAgent(ctx, m, o.to)
			}
		}
		cancel()
		if err != nil {
			if errors.Is(err, acl.ErrInvalid) {
				n.reject(Rejection{At: time.Now(), Subject: msg.Subject, Node: o.node, Reason: "invalid message: " + err.Error(), Size: len(msg.Data)})
			}
			n.link.DeadLetter(m, o.to, "undeliverable direct message from another node", err)
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
