package caxton

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
)

// queueName is the store queue of an agent's replica.
func queueName(agent acl.AgentID, replica int) string {
	return fmt.Sprintf("%s#%d", agent, replica)
}

// offline is the endpoint of an agent that has a queue in the durable
// store (from an earlier run) but is not spawned: messages wait in its
// first replica's queue until Spawn takes the queue over. While Spawn is
// taking over, a delivery waits for it and then goes to the agent, so a
// sender never sees the agent vanish in between.
type offline struct {
	rt      *Runtime
	id      acl.AgentID
	mu      sync.Mutex
	q       store.Queue    // opened on first delivery
	gone    bool           // Spawn is taking the queue over
	handoff chan struct{}  // closed when it is done (or failed)
	pending sync.WaitGroup // pushes waiting for the disk, outside mu
}

func (o *offline) name() acl.AgentID { return o.id }

func (o *offline) deliver(ctx context.Context, m *acl.Message, abort <-chan struct{}, mayBlock bool) error {
	o.mu.Lock()
	if o.gone {
		handoff := o.handoff
		o.mu.Unlock()
		select {
		case <-handoff:
		case <-ctx.Done():
			return ctx.Err()
		case <-abort:
			return ErrClosed
		}
		if ep, ok := o.rt.lookup(o.id); ok {
			return ep.deliver(ctx, m, abort, mayBlock)
		}
		if ep, ok := o.rt.lookupOffline(o.id); ok && ep != endpoint(o) { // the spawn failed
			return ep.deliver(ctx, m, abort, mayBlock)
		}
		return fmt.Errorf("%w: %q", ErrAgentNotFound, o.id)
	}
	if o.q == nil {
		q, err := o.rt.store.OpenQueue(queueName(o.id, 0))
		if err != nil {
			o.mu.Unlock()
			return err
		}
		o.q = q
	}
	e := &store.Envelope{Msg: m, Receiver: o.id, Enqueued: m.CreatedAt}
	var err error
	if ap, ok := o.q.(store.AsyncPusher); ok {
		// Order is fixed under the lock; the disk is awaited outside it, so
		// concurrent senders share a sync here too.
		var wait func() error
		if wait, err = ap.PushAsync(e); err == nil {
			o.pending.Add(1)
			o.mu.Unlock()
			err = wait()
			o.pending.Done()
			o.mu.Lock()
		}
	} else {
		err = o.q.Push(e)
	}
	o.mu.Unlock()
	if errors.Is(err, store.ErrFull) {
		return ErrMailboxFull
	}
	return err
}

// loadOffline registers an offline endpoint for every agent with a queue
// in the durable store.
func (rt *Runtime) loadOffline() {
	d, ok := rt.store.(store.Durable)
	if !ok {
		return
	}
	rt.offline = map[acl.AgentID]*offline{}
	for _, q := range d.Queues() {
		i := strings.LastIndexByte(q, '#')
		if i <= 0 {
			continue
		}
		id := acl.AgentID(q[:i])
		if id.Validate() == nil && rt.offline[id] == nil {
			rt.offline[id] = &offline{rt: rt, id: id}
		}
	}
}

// lookupOffline returns the offline endpoint for name, if there is one.
func (rt *Runtime) lookupOffline(name acl.AgentID) (endpoint, bool) {
	if rt.offline == nil {
		return nil, false
	}
	rt.regMu.RLock()
	o := rt.offline[name]
	rt.regMu.RUnlock()
	return o, o != nil
}

// takeOffline begins handing an offline agent's queue over to Spawn: the
// endpoint stops writing and releases the queue, but stays registered (so
// senders wait rather than find no one) until finish is called with
// whether the agent is now registered.
func (rt *Runtime) takeOffline(name acl.AgentID) (finish func(spawned bool)) {
	if rt.offline == nil {
		return func(bool) {}
	}
	rt.regMu.RLock()
	o := rt.offline[name]
	rt.regMu.RUnlock()
	if o == nil {
		return func(bool) {}
	}
	o.mu.Lock()
	o.gone, o.handoff = true, make(chan struct{})
	o.mu.Unlock()
	o.pending.Wait() // every accepted push is on disk before the queue closes
	o.mu.Lock()
	if o.q != nil {
		_ = o.q.Close()
		o.q = nil
	}
	o.mu.Unlock()
	return func(spawned bool) {
		rt.regMu.Lock()
		if rt.offline[name] == o {
			if spawned {
				delete(rt.offline, name)
			} else {
				rt.offline[name] = &offline{rt: rt, id: name} // still waiting for its agent
			}
		}
		rt.regMu.Unlock()
		o.mu.Lock()
		close(o.handoff)
		o.mu.Unlock()
	}
}

// isDurable reports whether queued messages outlive the runtime.
func (rt *Runtime) isDurable() bool {
	d, ok := rt.store.(store.Durable)
	return ok && d.Durable()
}

// adoptOrphans moves into q (replica 0's queue) the messages of queues left
// by an earlier run with more replicas than this one has, so a smaller
// deployment still delivers them; the emptied queues are deleted.
func (rt *Runtime) adoptOrphans(name acl.AgentID, replicas int, q store.Queue) {
	d, ok := rt.store.(store.Durable)
	if !ok {
		return
	}
	prefix := string(name) + "#"
	for _, qn := range d.Queues() {
		var i int
		if !strings.HasPrefix(qn, prefix) {
			continue
		}
		if _, err := fmt.Sscanf(qn[len(prefix):], "%d", &i); err != nil || i < replicas || qn != queueName(name, i) {
			continue
		}
		if err := rt.moveQueue(d, qn, q); err != nil {
			rt.logger.Error("adopting a former replica's queue", "agent", name, "queue", qn, "error", err)
		}
	}
}

// moveQueue re-queues every message of the queue named from into to, then
// deletes it. Each message is on disk in to before it leaves from.
func (rt *Runtime) moveQueue(d store.Durable, from string, to store.Queue) error {
	src, err := d.OpenQueue(from)
	if err != nil {
		return err
	}
	for e := src.Pop(); e != nil; e = src.Pop() {
		moved := &store.Envelope{Msg: e.Msg, Receiver: e.Receiver, Attempts: e.Attempts, Enqueued: e.Enqueued}
		if err := to.Push(moved); err != nil {
			_ = src.Close()
			return err
		}
		if err := src.Ack(e); err != nil {
			_ = src.Close()
			return err
		}
	}
	if err := src.Close(); err != nil {
		return err
	}
	return d.DeleteQueue(from)
}
