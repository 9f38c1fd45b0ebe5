package caxton

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// requests is the table of Requests waiting for their reply. Routing checks
// it first (only when something is waiting), so a reply reaches the waiting
// caller directly instead of the requester's mailbox — which matters for an
// agent that requests from inside its handler and could not otherwise see
// the reply until it returned.
type requests struct {
	mu          sync.Mutex
	byReplyWith map[string]*waiter
	byConv      map[string]*waiter
	waiting     atomic.Int64
}

type waiter struct {
	requester acl.AgentID
	replyWith string
	conv      string
	ch        chan *acl.Message // capacity 1; receives the first reply
}

func (r *requests) init() {
	r.byReplyWith = make(map[string]*waiter)
	r.byConv = make(map[string]*waiter)
}

func (r *requests) add(w *waiter) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byReplyWith[w.replyWith]; dup {
		return &acl.FieldError{Field: "reply_with", Reason: fmt.Sprintf("a request with reply-with %q is already waiting", w.replyWith)}
	}
	r.byReplyWith[w.replyWith] = w
	if _, taken := r.byConv[w.conv]; !taken {
		r.byConv[w.conv] = w
	}
	r.waiting.Add(1)
	return nil
}

func (r *requests) remove(w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(w)
}

func (r *requests) removeLocked(w *waiter) {
	if r.byReplyWith[w.replyWith] == w {
		delete(r.byReplyWith, w.replyWith)
		r.waiting.Add(-1)
	}
	if r.byConv[w.conv] == w {
		delete(r.byConv, w.conv)
	}
}

// answer hands m to the request it replies to, if one is waiting and its
// requester is among m's receivers. It returns the receivers still to be
// served the normal way, and whether a waiter took m.
func (r *requests) answer(m *acl.Message) ([]acl.AgentID, bool) {
	r.mu.Lock()
	var w *waiter
	if m.InReplyTo != "" {
		w = r.byReplyWith[m.InReplyTo]
	} else {
		w = r.byConv[m.ConversationID]
	}
	if w == nil || m.ReplyWith == w.replyWith || !m.HasReceiver(w.requester) { // a request is not its own reply
		r.mu.Unlock()
		return m.Receivers, false
	}
	r.removeLocked(w)
	r.mu.Unlock()
	w.ch <- m // capacity 1 and removed from the table: never blocks
	rest := slices.DeleteFunc(slices.Clone(m.Receivers), func(id acl.AgentID) bool { return id == w.requester })
	return rest, true
}

// Request sends m from the host and waits for its reply: the first message
// addressed to m's sender whose in-reply-to is m's reply-with (or, for a
// reply without in-reply-to, in m's conversation). Request fills in
// reply-with and conversation id when empty. It waits until ctx ends or
// m's ReplyBy passes (by the runtime's clock; then the error wraps
// ErrNoReply), or the runtime closes (ErrClosed). Without a sender, m comes
// from the default host inbox. A reply that arrives after Request gave up
// is not lost: it lands in the requester's inbox — for the host, Inbox(),
// which is bounded, so a host that abandons requests should drain it.
func (rt *Runtime) Request(ctx context.Context, m *acl.Message) (*acl.Message, error) {
	return rt.hostRequest(ctx, m, rt.hostOrigin())
}

// hostRequest is a Request by host code (the runtime's or an inbox's).
func (rt *Runtime) hostRequest(ctx context.Context, m *acl.Message, o origin) (*acl.Message, error) {
	if err := rt.shutdown.enter(); err != nil {
		return nil, err
	}
	defer rt.shutdown.exit()
	return rt.request(ctx, m, o, rt.shutdown.closing)
}

// request stamps m with its origin, registers the wait for its reply and
// routes it.
func (rt *Runtime) request(ctx context.Context, m *acl.Message, o origin, abort <-chan struct{}) (*acl.Message, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	if err := o.stamp(m); err != nil {
		return nil, err
	}
	now := rt.clock.Now()
	if m.ReplyWith == "" {
		m.ReplyWith = rt.ids.New(now).String()
	}
	if m.ConversationID == "" {
		m.ConversationID = m.ReplyWith
	}
	requester := m.Sender
	if m.ReplyTo != "" {
		requester = m.ReplyTo
	}
	w := &waiter{requester: requester, replyWith: m.ReplyWith, conv: m.ConversationID, ch: make(chan *acl.Message, 1)}
	if err := rt.reqs.add(w); err != nil {
		return nil, err
	}
	defer rt.reqs.remove(w)
	if err := rt.route(ctx, m, o, abort); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			// Cancelled or timed out while sending: worded like a wait
			// that ended, with the request's id.
			return nil, fmt.Errorf("caxton: request %s: %w", m.ReplyWith, err)
		}
		return nil, err
	}
	var deadline <-chan time.Time // nil: no reply-by, never fires
	if !m.ReplyBy.IsZero() {
		t := rt.clock.NewTimer(m.ReplyBy.Sub(now))
		defer t.Stop()
		deadline = t.C()
	}
	select {
	case reply := <-w.ch:
		return reply, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("caxton: request %s: %w", m.ReplyWith, ctx.Err())
	case <-abort: // the runtime is closing: a host caller must not outlive it
		return nil, fmt.Errorf("caxton: request %s: %w", m.ReplyWith, ErrClosed)
	case <-deadline:
		select { // a reply that raced the deadline still counts
		case reply := <-w.ch:
			return reply, nil
		default:
		}
		return nil, fmt.Errorf("%w: reply-by %s passed for request %s", ErrNoReply, m.ReplyBy.Format("15:04:05.000"), m.ReplyWith)
	}
}
