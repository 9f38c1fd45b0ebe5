package caxton

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/clock"
)

// Inbox lets plain Go code take part in conversations: it has a name on the
// bus like an agent, but instead of a handler the host pulls messages with
// Receive. The runtime has a default inbox (Runtime.Inbox, named by WithHostName, "host" by default);
// NewInbox makes more. An Inbox is bounded: when full it refuses messages
// with ErrMailboxFull, so the sender learns of it.
type Inbox struct {
	rt       *Runtime
	id       acl.AgentID
	capacity int

	mu     sync.Mutex
	msgs   []*acl.Message
	notify chan struct{} // closed and replaced on every arrival
	closed bool
}

// NewInbox registers a host inbox named name.
func (rt *Runtime) NewInbox(name acl.AgentID) (*Inbox, error) {
	if err := name.Validate(); err != nil {
		return nil, err
	}
	if name.IsTopic() {
		return nil, specErr("name", "%q is a topic address", name)
	}
	if rt.shutdown.isClosed() {
		return nil, ErrClosed
	}
	ib := &Inbox{rt: rt, id: name, capacity: rt.cfg.inboxCapacity, notify: make(chan struct{})}
	if err := rt.register(ib); err != nil {
		return nil, err
	}
	return ib, nil
}

// Inbox returns the runtime's default host inbox.
func (rt *Runtime) Inbox() *Inbox { return rt.inbox }

// Clock returns the runtime's clock, so a protocol.Client reading this inbox
// measures deadlines on it (protocol.Clocked).
func (ib *Inbox) Clock() clock.Clock { return ib.rt.clock }

// Name returns the inbox's name on the bus.
func (ib *Inbox) Name() acl.AgentID { return ib.id }

func (ib *Inbox) name() acl.AgentID { return ib.id }

func (ib *Inbox) deliver(_ context.Context, m *acl.Message, _ <-chan struct{}, _ bool) error {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if ib.closed {
		return ErrClosed
	}
	if len(ib.msgs) >= ib.capacity {
		return ErrMailboxFull
	}
	ib.msgs = append(ib.msgs, m)
	close(ib.notify)
	ib.notify = make(chan struct{})
	return nil
}

// Send sends m with this inbox as sender (a different non-empty sender is
// an error).
func (ib *Inbox) Send(ctx context.Context, m *acl.Message) error {
	return ib.rt.hostSend(ctx, m, ib.origin())
}

// Request sends m from this inbox and waits for the reply; see
// Runtime.Request.
func (ib *Inbox) Request(ctx context.Context, m *acl.Message) (*acl.Message, error) {
	return ib.rt.hostRequest(ctx, m, ib.origin())
}

// origin is the inbox's: it speaks as itself.
func (ib *Inbox) origin() origin { return origin{kind: originInbox, name: ib.id} }

// Receive returns the oldest message, waiting until one arrives or ctx
// ends. After the inbox or runtime closed it still returns what had
// arrived, then ErrClosed.
func (ib *Inbox) Receive(ctx context.Context) (*acl.Message, error) {
	return ib.ReceiveMatching(ctx, nil)
}

// ReceiveMatching returns the oldest message that matches tmpl (nil matches
// all), leaving others in place — selective receive, like JADE's
// receive(MessageTemplate).
func (ib *Inbox) ReceiveMatching(ctx context.Context, tmpl acl.Template) (*acl.Message, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	for {
		ib.mu.Lock()
		for i, m := range ib.msgs {
			if tmpl.Match(m) {
				ib.msgs = slices.Delete(ib.msgs, i, i+1)
				ib.mu.Unlock()
				return m, nil
			}
		}
		closed, ch := ib.closed, ib.notify
		ib.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Len returns the number of messages waiting.
func (ib *Inbox) Len() int {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	return len(ib.msgs)
}

// Close unregisters the inbox: later messages to its name fail with
// ErrAgentNotFound. Messages that had arrived stay readable. The default
// host inbox cannot be closed (it lives as long as the runtime).
func (ib *Inbox) Close() error {
	if ib == ib.rt.inbox {
		return fmt.Errorf("caxton: the default host inbox %q closes with the runtime", ib.id)
	}
	ib.rt.regMu.Lock()
	if ib.rt.endpoints[ib.id] == endpoint(ib) {
		delete(ib.rt.endpoints, ib.id)
	}
	ib.rt.regMu.Unlock()
	ib.rt.bus.unsubscribeAll(ib)
	ib.rt.bus.removeRulesFor(ib.id)
	ib.markClosed()
	return nil
}

func (ib *Inbox) markClosed() {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if !ib.closed {
		ib.closed = true
		close(ib.notify)
		ib.notify = make(chan struct{})
	}
}
