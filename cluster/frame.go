package cluster

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go/jetstream"
)

// frame is a JetStream message of a node's mail whose messages for agents
// hosted here are being handled: they count down as they leave their
// mailboxes for good (handled, or dead-lettered with the local record),
// and the last one acknowledges the frame to JetStream. Messages given
// back (their agent was removed here, or the runtime closed with them
// queued) come again alone (resend): the frame's other messages are not
// handled twice.
type frame struct {
	n       *Node
	msg     jetstream.Msg
	origin  string        // the node whose mail subject the frame was taken from, or parkNode
	node    string        // the node that signed it
	to      []acl.AgentID // the receiver of each of its messages
	pending atomic.Int64
	counted [maxBatch / 64]atomic.Uint64 // a bit per message: settled or given back (each counts once)

	mu    sync.Mutex
	again []int // indexes of the messages that come again
}

// hold starts handling msg's count messages for agents hosted here; the
// frame counts one more for the caller, who settles it when it has handed
// out every part. Until it is acknowledged the node tells JetStream it is
// still in progress (extendInFlight), so a slow agent's frame is not given
// to another node meanwhile.
func (n *Node) hold(msg jetstream.Msg, o opened, origin string, count int) *frame {
	f := &frame{n: n, msg: msg, origin: origin, node: o.node, to: o.to}
	f.pending.Store(int64(count) + 1)
	n.fmu.Lock()
	n.frames[f] = time.Now()
	n.fmu.Unlock()
	return f
}

// count marks message i as settled or given back, reporting whether it
// was not yet: each message counts once, whatever reports it — a message
// queued although its push reported an error (a durable store whose sync
// failed) is given back and may also be handled; it then comes again
// (at-least-once) without the frame being acknowledged early.
func (f *frame) count(i int) bool {
	b := uint64(1) << (i & 63)
	return f.counted[i>>6].Or(b)&b == 0
}

// giveBack settles the frame's messages idx, which were not handled here:
// they come again.
func (f *frame) giveBack(idx ...int) {
	k := 0
	f.mu.Lock()
	for _, i := range idx {
		if f.count(i) {
			f.again = append(f.again, i)
			k++
		}
	}
	f.mu.Unlock()
	if k > 0 {
		f.done(int64(k))
	}
}

// settle counts message i as gone for good.
func (f *frame) settle(i int) {
	if f.count(i) {
		f.done(1)
	}
}

func (f *frame) done(k int64) {
	if f.pending.Add(-k) != 0 {
		return
	}
	n := f.n
	n.fmu.Lock()
	delete(n.frames, f)
	n.fmu.Unlock()
	f.mu.Lock()
	again := f.again
	f.mu.Unlock()
	slices.Sort(again)
	if len(again) > 0 {
		n.resend(f, again)
		return
	}
	if err := f.msg.Ack(); err != nil {
		n.logger.Debug("cluster: ack failed; the frame will come again", "error", err)
	}
}

// resend passes the frame on again for its messages idx only — back to
// the subject it was taken from, where the node serving it routes them
// (to another replica, the park, or a later Spawn) — and then acknowledges
// it. If that fails the whole frame comes again (its handled messages are
// at-least-once duplicates). It runs apart: the last settle may come from
// an agent's worker or from Remove, which must not wait for a publish.
func (n *Node) resend(f *frame, idx []int) {
	n.smu.Lock()
	defer n.smu.Unlock()
	if n.settleClosed { // the node is gone: JetStream gives the frame out again
		_ = f.msg.NakWithDelay(200 * time.Millisecond)
		return
	}
	n.settles.Add(1)
	go func() {
		defer n.settles.Done()
		n.hmu.Lock()
		busy := slices.ContainsFunc(idx, func(i int) bool { return n.hosted[f.to[i]] != nil })
		n.hmu.Unlock()
		if busy { // given back while its Release is under way here: not at once
			select {
			case <-time.After(200 * time.Millisecond):
			case <-n.done:
			}
		}
		if err := n.forward(f.msg, f.origin, idx, true); err != nil {
			n.logger.Debug("cluster: passing on what was given back failed; the frame will come again", "error", err)
			_ = f.msg.NakWithDelay(200 * time.Millisecond)
			return
		}
		if err := f.msg.Ack(); err != nil {
			n.logger.Debug("cluster: ack of a frame passed on failed; it will come again", "error", err)
		}
	}()
}

// closeSettles waits for the resends under way; later ones leave their
// frames to JetStream's redelivery.
func (n *Node) closeSettles() {
	n.smu.Lock()
	n.settleClosed = true
	n.smu.Unlock()
	n.settles.Wait()
}

// extendInFlight tells JetStream that frames held longer than a third of
// the ack wait (a handler retrying with backoff, a long queue) are still
// being worked on, so they are not given to another node meanwhile.
func (n *Node) extendInFlight() {
	cutoff := time.Now().Add(-n.cfg.ackWait / 3)
	n.fmu.Lock()
	var old []*frame
	for f, since := range n.frames {
		if since.Before(cutoff) {
			old = append(old, f)
			n.frames[f] = time.Now()
		}
	}
	n.fmu.Unlock()
	for _, f := range old {
		_ = f.msg.InProgress()
	}
}
