package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// hosted is an agent this node hosts: the parts of frames for it that the
// node's consumer took and its worker has not yet queued in its mailbox.
type hosted struct {
	n      *Node
	name   acl.AgentID
	placed Placement // as last written to the directory
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // a part was queued
	done   chan struct{} // the worker ended

	mu      sync.Mutex
	queue   []part // for the worker, in the order the consumer took their frames
	busy    bool   // a part is being delivered (by the worker, or by the goroutine taking frames: see offer)
	stopped bool   // Release or Close: nothing queues any more
}

// part is the messages of one frame for one receiver.
type part struct {
	f    *frame
	to   acl.AgentID
	msgs []*acl.Message
	idx  []int // msgs[i] is the frame's message idx[i]
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
	h := &hosted{n: n, name: spec.Name, wake: make(chan struct{}, 1), done: make(chan struct{}),
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

// unhost forgets h and ends its worker; the parts it had not queued go
// back to JetStream at once (see frame.resend).
func (n *Node) unhost(h *hosted) {
	n.hmu.Lock()
	if n.hosted[h.name] == h {
		delete(n.hosted, h.name)
	}
	n.hmu.Unlock()
	h.stop()
}

// offer hands p to h, unless h is stopped. While h has nothing queued
// and the agent's mailbox has room, the caller — the goroutine taking the
// node's frames — delivers p itself: no hand-off to another goroutine per
// agent and frame, which with thousands of agents was most of a message's
// way through a node. What does not fit goes to h's worker, which waits
// for room; everything after it queues behind it, so per sender→receiver
// order holds. With a durable store every part goes to the worker: a
// queued message waits for its disk sync, and the agents' workers share
// syncs where one goroutine would pay one per message.
func (h *hosted) offer(p part) bool {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return false
	}
	if h.busy || len(h.queue) > 0 || h.n.durable {
		h.queue = append(h.queue, p)
		h.mu.Unlock()
		h.signal()
		return true
	}
	h.busy = true
	h.mu.Unlock()
	rest, left := h.receive(p, true)
	h.mu.Lock()
	h.busy = false
	stopped := h.stopped
	if left && !stopped {
		h.queue = slices.Insert(h.queue, 0, rest)
	}
	more := len(h.queue) > 0
	h.mu.Unlock()
	if left && stopped { // released meanwhile: its worker is gone
		rest.f.giveBack(rest.idx...)
	}
	if more {
		h.signal()
	}
	return true
}

func (h *hosted) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// work delivers the parts offer queued, in order, waiting for room in the
// agent's mailbox. One worker per agent: a full mailbox holds up that
// agent's messages, not every agent of the node.
func (h *hosted) work() {
	defer close(h.done)
	for {
		h.mu.Lock()
		if len(h.queue) == 0 || h.stopped || h.busy {
			h.mu.Unlock()
			select {
			case <-h.wake:
				continue
			case <-h.ctx.Done():
				return
			}
		}
		p := h.queue[0]
		h.queue[0] = part{}
		h.queue = h.queue[1:]
		if len(h.queue) == 0 {
			h.queue = nil
		}
		h.busy = true
		h.mu.Unlock()
		h.receive(p, false)
		h.mu.Lock()
		h.busy = false
		h.mu.Unlock()
	}
}

// stop ends the worker; the parts it had not taken go back to JetStream
// (see frame.resend), to another replica or a later Spawn.
func (h *hosted) stop() {
	h.mu.Lock()
	h.stopped = true
	q := h.queue
	h.queue = nil
	h.mu.Unlock()
	h.cancel()
	<-h.done
	for _, p := range q {
		p.f.giveBack(p.idx...)
	}
}

// consumeMail handles the frames of a mail consumer: this node's own, or
// one it adopted (origin: the node whose subject it serves, or parkNode).
func (n *Node) consumeMail(origin string) func(jetstream.Msg) {
	return func(msg jetstream.Msg) { n.take(origin, msg) }
}

// take handles one frame: verify it (once, whatever the number of its
// receivers), then each receiver's messages go to that agent's worker if
// it is hosted here; the others are passed on (forward, with Caxton-Only
// naming whose messages the next node takes): to a live node hosting
// them; back to origin's subject if they wait (their agent awaits the
// takeover of origin's agents, or its Spawn or Release is in progress
// here: the frame then comes again after a while); otherwise to the park,
// which one live node serves and where they wait for a Spawn of the name.
// The frame is acknowledged once everything passed on was stored and the
// last local message left its mailbox for good (see frame).
func (n *Node) take(origin string, msg jetstream.Msg) {
	o, rej, err := n.openMail(msg)
	if err != nil { // a key could not be fetched: NATS is away
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if rej != nil {
		n.reject(*rej)
		_ = msg.Term() // never again: no node would accept it
		return
	}
	parts, rej := byReceiver(msg, o)
	if rej != nil {
		n.reject(*rej)
		_ = msg.Term()
		return
	}
	var local, elsewhere []part
	var hs []*hosted
	away := map[string][]int{} // node to pass on to → the frame's messages it takes
	var waiting []int
	n.hmu.Lock()
	for _, p := range parts {
		if h := n.hosted[p.to]; h != nil {
			local, hs = append(local, p), append(hs, h)
		} else {
			elsewhere = append(elsewhere, p)
		}
	}
	n.hmu.Unlock()
	for _, p := range elsewhere {
		target, wait := n.dir.route(p.to, origin)
		if target == "" && !wait && origin != parkNode {
			target = parkNode
		}
		if target == "" || target == origin {
			waiting = append(waiting, p.idx...)
			continue
		}
		away[target] = append(away[target], p.idx...)
	}
	if len(local) == 0 && len(away) == 0 { // all of it waits: it comes again
		_ = msg.NakWithDelay(n.retryDelay(msg, origin == parkNode))
		return
	}
	if len(waiting) > 0 {
		away[origin] = waiting // taken again at once, then all of it waits (above)
	}
	subset := len(local) > 0 || len(away) > 1 || msg.Headers().Get(hdrOnly) != ""
	for target, idx := range away {
		slices.Sort(idx)
		if err := n.forward(msg, target, idx, subset); err != nil {
			n.logger.Debug("cluster: passing on a frame failed; it will come again", "node", target, "error", err)
			_ = msg.NakWithDelay(time.Second)
			return
		}
	}
	if len(local) == 0 {
		if err := msg.Ack(); err != nil {
			n.logger.Debug("cluster: ack of a frame passed on failed; it will come again", "error", err)
		}
		return
	}
	count := 0
	for _, p := range local {
		count += len(p.msgs)
	}
	f := n.hold(msg, o, origin, count)
	for i, p := range local {
		p.f = f
		if !hs[i].offer(p) { // released meanwhile
			f.giveBack(p.idx...)
		}
	}
	f.done(1) // the loop's own
}

// byReceiver groups a verified frame's messages by receiver, in the
// order of their first message, keeping those Caxton-Only selects (all if
// it is absent).
func byReceiver(msg jetstream.Msg, o opened) ([]part, *Rejection) {
	refuse := func(format string, args ...any) ([]part, *Rejection) {
		return nil, &Rejection{At: time.Now(), Subject: msg.Subject(), Node: o.node, Reason: fmt.Sprintf(format, args...), Size: len(msg.Data())}
	}
	var only []int
	if v := msg.Headers().Get(hdrOnly); v != "" {
		for s := range strings.SplitSeq(v, ",") {
			i, err := strconv.Atoi(s)
			if err != nil || strconv.Itoa(i) != s || i < 0 || i >= len(o.msgs) || len(only) > 0 && i <= only[len(only)-1] {
				return refuse("malformed %s header %.64q: want increasing indexes of the frame's %d messages", hdrOnly, v, len(o.msgs))
			}
			only = append(only, i)
		}
	}
	var parts []part
	var index map[acl.AgentID]int // with many receivers
	add := func(i int) {
		to := o.to[i]
		k := -1
		switch {
		case len(parts) > 0 && parts[len(parts)-1].to == to:
			k = len(parts) - 1
		case index != nil:
			if j, ok := index[to]; ok {
				k = j
			}
		default:
			k = slices.IndexFunc(parts, func(p part) bool { return p.to == to })
		}
		if k < 0 {
			k = len(parts)
			parts = append(parts, part{to: to})
			if index == nil && len(parts) > 8 {
				index = make(map[acl.AgentID]int, 2*len(parts))
				for j, p := range parts {
					index[p.to] = j
				}
			} else if index != nil {
				index[to] = k
			}
		}
		parts[k].msgs = append(parts[k].msgs, o.msgs[i])
		parts[k].idx = append(parts[k].idx, i)
	}
	if only == nil {
		for i := range o.msgs {
			add(i)
		}
	} else {
		for _, i := range only {
			add(i)
		}
	}
	return parts, nil
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

// forward publishes a frame, unchanged, to node's mail subject; with
// subset, Caxton-Only names the messages (indexes into the frame, in
// order) that node takes. The signature covers the subject the frame was
// first published on; the frame carries it in Caxton-Subject (openMail).
func (n *Node) forward(msg jetstream.Msg, node string, idx []int, subset bool) error {
	return n.passOn(n.ctx, msg.Subject(), msg.Headers(), msg.Data(), node, idx, subset)
}

// passOn is forward for a frame taken from subject (a mail subject, or
// this node's own for a direct request), with headers h and payload data.
func (n *Node) passOn(ctx context.Context, subject string, h nats.Header, data []byte, node string, idx []int, subset bool) error {
	fm := nats.NewMsg(n.lay.mailSubject(node))
	fm.Data = data
	for _, k := range []string{hdrNode, hdrTo, hdrSig, hdrKey, hdrSubject} {
		if v := h.Get(k); v != "" {
			fm.Header.Set(k, v)
		}
	}
	if fm.Header.Get(hdrSubject) == "" {
		fm.Header.Set(hdrSubject, subject)
	}
	if subset {
		b := make([]byte, 0, 4*len(idx))
		for k, i := range idx {
			if k > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(i), 10)
		}
		fm.Header.Set(hdrOnly, string(b))
	}
	return n.publishSync(ctx, fm, nil, "")
}

// openMail verifies a frame from a mail subject: the signature over the
// subject it was signed for (its own, or Caxton-Subject if passed on),
// a mail subject — or a node's own subject: a direct request for an agent
// that moved, which the node it reached passed on to the agent's queue
// with its sender's signature, so that the reply goes to the node that
// asked.
func (n *Node) openMail(msg jetstream.Msg) (opened, *Rejection, error) {
	subject, h := msg.Subject(), msg.Headers()
	signed := subject
	if v := h.Get(hdrSubject); v != "" {
		signed = v
	}
	_, ok := n.lay.mailNode(subject)
	_, sok := n.lay.mailNode(signed)
	if !sok && signed != subject {
		_, sok = n.lay.nodeOf(signed)
	}
	if !ok || !sok {
		return opened{}, &Rejection{At: time.Now(), Subject: subject, Node: h.Get(hdrNode), Reason: fmt.Sprintf("signed for subject %.128q, not a mail or node subject", signed), Size: len(msg.Data())}, nil
	}
	o, rej, err := open(signed, h, msg.Data(), n.cfg.maxBytes, n.dir.keyOf)
	if rej != nil {
		rej.Subject = subject
	}
	return o, rej, err
}

// receive queues p's messages in h's mailbox. Each settles its frame when
// it leaves the mailbox for good (handled, or dead-lettered with the local
// record); one that cannot be queued here (the agent was removed or is
// closing) is given back with the rest of p, to come again to another
// replica or a later Spawn. With try (offer's fast way) it never waits: it
// stops at the first message refused for now and returns the rest (left);
// otherwise such a message is tried again after a pause (from 1 ms,
// backing off to 1 s).
func (h *hosted) receive(p part, try bool) (rest part, left bool) {
	n, f := h.n, p.f
	for i, m := range p.msgs {
		k := p.idx[i]
		if !n.dir.mayspeak(f.node, m.Sender) {
			n.reject(Rejection{Subject: f.msg.Subject(), Node: f.node, Reason: fmt.Sprintf("node does not host the sender %q", m.Sender), Size: len(f.msg.Data())})
			f.settle(k)
			continue
		}
		n.replies.note(m, f.node)
		settle, giveBack := func() { f.settle(k) }, func() { f.giveBack(k) }
		var err error
		if try {
			err = n.link.TryDeliver(m, h.name, settle, giveBack)
			if h.refusedForNow(err) {
				return part{f: f, to: p.to, msgs: p.msgs[i:], idx: p.idx[i:]}, true
			}
		} else {
			err = n.link.Deliver(h.ctx, m, h.name, settle, giveBack)
			for wait := time.Millisecond; h.refusedForNow(err); wait = min(2*wait, time.Second) {
				select { // the frame stays held (extendInFlight), nothing is written meanwhile
				case <-time.After(wait):
				case <-h.ctx.Done():
				}
				err = n.link.Deliver(h.ctx, m, h.name, settle, giveBack)
			}
		}
		if err == nil {
			continue
		}
		switch {
		case errors.Is(err, acl.ErrInvalid):
			n.reject(Rejection{At: time.Now(), Subject: f.msg.Subject(), Node: f.node, Reason: "invalid message: " + err.Error(), Size: len(f.msg.Data())})
			n.link.DeadLetter(m, h.name, "invalid message from another node", err)
		case errors.Is(err, caxton.ErrAgentFailed):
			n.link.DeadLetter(m, h.name, "agent failed", err)
		default: // removed or closing here (or an error that may pass): this and the rest of p come again
			f.giveBack(p.idx[i:]...)
			return part{}, false
		}
		f.settle(k)
	}
	return part{}, false
}

// refusedForNow reports whether the local agent refused a message for a
// while (a full mailbox that rejects, an open circuit breaker, a quota):
// its worker tries it again after a pause rather than give it back — a
// message given back while its agent is still here would only come back
// to it, each time as a new replicated write.
func (h *hosted) refusedForNow(err error) bool {
	return err != nil && h.ctx.Err() == nil &&
		(errors.Is(err, caxton.ErrMailboxFull) || errors.Is(err, caxton.ErrCircuitOpen) || errors.Is(err, caxton.ErrQuotaExceeded))
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
	for i, m := range o.msgs {
		if !n.dir.mayspeak(o.node, m.Sender) {
			n.reject(Rejection{Subject: msg.Subject, Node: o.node, Reason: fmt.Sprintf("node does not host the sender %q", m.Sender), Size: len(msg.Data)})
			continue
		}
		n.replies.note(m, o.node)
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.sendTimeout)
		err := n.link.Deliver(ctx, m, o.to[i], nil, nil)
		if errors.Is(err, caxton.ErrAgentNotFound) {
			if _, agent := n.dir.lookup(o.to[i]); agent {
				// a direct request for an agent that moved: its queue takes
				// it, signed by the node that asked (where the reply goes)
				err = n.passOn(ctx, msg.Subject, msg.Header, msg.Data, n.dir.home(o.to[i]), []int{i}, len(o.msgs) > 1)
			}
		}
		cancel()
		if err != nil {
			if errors.Is(err, acl.ErrInvalid) {
				n.reject(Rejection{At: time.Now(), Subject: msg.Subject, Node: o.node, Reason: "invalid message: " + err.Error(), Size: len(msg.Data)})
			}
			n.link.DeadLetter(m, o.to[i], "undeliverable direct message from another node", err)
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
