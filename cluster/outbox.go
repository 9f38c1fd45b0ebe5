package cluster

import (
	"sync"

	"github.com/caxton-go/caxton/acl"
)

// outbox queues this node's messages for the agents of one other node (or
// the park) until they go out as a frame: while one frame is being stored,
// what queues behind it becomes the next frame, up to maxBatch messages
// and WithMaxMessageBytes (group commit). Under load a frame carries many
// messages, for any of that node's agents, for one Ed25519 signature, one
// JetStream message and one replicated write; an idle sender's message
// goes out alone at once (no lingering, so latency is unchanged). One
// flusher at a time per outbox keeps messages to one receiver in the
// order they were sent.
type outbox struct {
	node  string
	mu    sync.Mutex
	queue []outItem
	busy  bool // a flusher is running
	gone  bool // emptied and dropped from the map: queue on a new one
}

// outItem is one queued message.
type outItem struct {
	m    *acl.Message
	to   acl.AgentID
	size int        // abi.EncodedSize(m) + receiverSize(to)
	done chan error // the frame's outcome (synchronous sends); nil with WithAsyncPublish
}

// enqueue adds it to the outbox of node (where it.to's mail goes, see
// directory.home) and starts its flusher if none runs. After Close it
// fails with ErrClosed (and starts nothing).
func (n *Node) enqueue(node string, it outItem) error {
	n.outMu.RLock()
	defer n.outMu.RUnlock()
	if n.outClosed {
		return ErrClosed
	}
	ob := n.outboxes.get(node)
	ob.mu.Lock()
	for ob.gone { // its flusher just emptied it and dropped it from the map
		ob.mu.Unlock()
		ob = n.outboxes.get(node)
		ob.mu.Lock()
	}
	ob.queue = append(ob.queue, it)
	start := !ob.busy
	ob.busy = true
	ob.mu.Unlock()
	if start {
		n.flushers.Add(1)
		go n.flush(ob)
	}
	return nil
}

// next takes the next frame's items off the queue, or reports that it is
// empty: the flusher ends and the outbox leaves the map (a node that sent
// to many nodes once keeps no outbox for each), and a send queueing on it
// meanwhile takes a new one.
func (ob *outbox) next(maxBytes int, all *outboxes) []outItem {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if len(ob.queue) == 0 {
		ob.busy = false
		ob.gone = true
		ob.queue = nil // let a burst's backing array go
		all.m.CompareAndDelete(ob.node, ob)
		return nil
	}
	size, k := frameOverhead, 0
	for k < len(ob.queue) && k < maxBatch && (k == 0 || size+ob.queue[k].size <= maxBytes) {
		size += ob.queue[k].size
		k++
	}
	items := make([]outItem, k)
	copy(items, ob.queue)
	clear(ob.queue[:k])
	ob.queue = ob.queue[k:]
	return items
}

// flush sends ob's queue as frames until it is empty.
func (n *Node) flush(ob *outbox) {
	defer n.flushers.Done()
	subject := n.lay.mailSubject(ob.node)
	for {
		items := ob.next(n.cfg.maxBytes, &n.outboxes)
		if items == nil {
			return
		}
		ms := make([]*acl.Message, len(items))
		to := make([]acl.AgentID, len(items))
		for i, it := range items {
			ms[i], to[i] = it.m, it.to
		}
		msg, err := seal(subject, n.name, n.key, to, ms, n.cfg.maxBytes)
		opts := n.pubOpts(ms, to)
		if err == nil && n.acks != nil {
			fut, aerr := n.js.PublishMsgAsync(msg, opts...)
			if aerr == nil {
				n.acks <- pendingAck{fut: fut, msg: msg, items: items, opts: opts}
				continue
			}
			// the connection dropped or JetStream's own window is full:
			// the synchronous way waits for it rather than fail
		}
		if err == nil {
			err = n.publishSync(n.ctx, msg, opts, "")
		}
		if n.acks != nil {
			n.settleAsync(items, err)
			continue
		}
		for _, it := range items {
			it.done <- forReceiver(err, it.to)
		}
	}
}

// outboxes maps nodes to their outboxes while they have something queued
// or being sent.
type outboxes struct {
	m sync.Map // node name → *outbox
}

func (o *outboxes) get(node string) *outbox {
	if ob, ok := o.m.Load(node); ok {
		return ob.(*outbox)
	}
	ob, _ := o.m.LoadOrStore(node, &outbox{node: node})
	return ob.(*outbox)
}
