package caxton

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// Request sends m from the host and waits for its reply: the first message
// addressed to m's sender whose in-reply-to is m's reply-with (or, for a
// reply without in-reply-to, in m's conversation), sent by someone m
// reached — a receiver, a topic subscriber or a content rule's target.
// Request fills in reply-with and conversation id when empty. Without a
// sender, m comes from the default host inbox.
//
// It waits until ctx ends, m's ReplyBy passes (by the runtime's clock; the
// error wraps ErrNoReply), the runtime closes (ErrClosed), or the runtime
// answers for the receiver: if m is dead-lettered — its handler failed every
// attempt, panicked, failed permanently, or the agent was removed — the
// requester gets a FIPA failure from the runtime and Request returns a
// *DeadLetteredError (errors.Is ErrDeadLettered) with the dead letter's
// reason, at once rather than at the deadline.
//
// A reply that arrives after Request gave up is a late reply: it is not
// delivered to the requester (nobody reads it there, and a full inbox would
// make the responder's Reply fail) but counted and recorded — see
// LateReplies and WithLateReplyHook. A service that gives requests a
// deadline should expect a few and watch the count.
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
		if errors.Is(err, ErrForgedSender) {
			rt.auditf(AuditForged, subjectOf(o).String(), "request "+m.Performative.String(), targetsOf(m), false, err.Error(), traceID(ctx))
		}
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
	w := &waiter{requester: requester, replyWith: m.ReplyWith, conv: m.ConversationID, answered: make(chan struct{}, 1)}
	if err := rt.reqs.add(w); err != nil {
		return nil, err
	}
	reply, err := rt.await(ctx, m, o, abort, w, now)
	rt.reqs.done(w, reply != nil)
	if err != nil {
		return nil, err
	}
	if reply.Sender == rt.cfg.systemName && reply.Performative == acl.Failure {
		if dl, ok := reply.Param(paramDeadLetter); ok {
			return nil, deadLetteredError(m.ReplyWith, dl, reply)
		}
	}
	return reply, nil
}

// await routes m and waits for the reply w receives.
func (rt *Runtime) await(ctx context.Context, m *acl.Message, o origin, abort <-chan struct{}, w *waiter, now time.Time) (*acl.Message, error) {
	if err := rt.route(ctx, m, o, w, abort); err != nil {
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
	case <-w.answered:
		return w.reply, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("caxton: request %s: %w", m.ReplyWith, ctx.Err())
	case <-abort: // the runtime is closing: a host caller must not outlive it
		return nil, fmt.Errorf("caxton: request %s: %w", m.ReplyWith, ErrClosed)
	case <-deadline:
		select { // a reply that raced the deadline still counts
		case <-w.answered:
			return w.reply, nil
		default:
		}
		return nil, fmt.Errorf("%w: reply-by %s passed for request %s", ErrNoReply, m.ReplyBy.Format("15:04:05.000"), m.ReplyWith)
	}
}
