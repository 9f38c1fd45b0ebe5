package caxton

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/telemetry"
)

// DeadLetter is a message that could not be handled: the message, the agent
// it was for, why, how many attempts were made and the last error.
type DeadLetter = store.DeadLetter

// deadLetter records e in the dead-letter queue. If even that fails the
// loss is logged at error level — the one place a message can go, after
// everything else has failed, is the log.
func (rt *Runtime) deadLetter(a *agent, in *instance, e *store.Envelope, reason string, cause error) {
	d := DeadLetter{
		Message:  e.Msg,
		Receiver: a.name(),
		Reason:   reason,
		Attempts: e.Attempts,
		At:       rt.clock.Now(),
	}
	d.ID = rt.ids.New(d.At).String()
	if cause != nil {
		d.LastError = cause.Error()
	}
	a.stats.deadLettered.Add(1)
	// The message's span context, so the log lines below have its trace id
	// (a log line needs only the W3C ids, whatever the propagator).
	ctx := telemetry.Extract(rt.shutdown.base, e.Msg)
	rt.tel.DeadLettered(ctx, a.name(), e.Msg, reason)
	// Not cancelled with the runtime: a dead letter is the last place a
	// message can go, and Close dead-letters what is left.
	if err := rt.dlq.Add(context.WithoutCancel(ctx), d); err != nil {
		in.log().ErrorContext(ctx, "dead-letter queue refused a message; it is lost", "error", err, "message_id", e.Msg.ID, "reason", reason)
		return
	}
	in.log().WarnContext(ctx, "message dead-lettered", "message_id", e.Msg.ID, "reason", reason, "attempt", e.Attempts, "last_error", d.LastError)
	rt.runDeadLetterHook(d)
	rt.noticeDeadLetter(d)
}

// deadLetterUnrouted records a message that was never queued for anyone.
func (rt *Runtime) deadLetterUnrouted(m *acl.Message, receiver acl.AgentID, reason string) {
	d := DeadLetter{Message: m, Receiver: receiver, Reason: reason, At: rt.clock.Now()}
	d.ID = rt.ids.New(d.At).String()
	ctx := telemetry.Extract(rt.shutdown.base, m) // for the log lines' trace id
	if err := rt.dlq.Add(context.WithoutCancel(ctx), d); err != nil {
		rt.logger.ErrorContext(ctx, "dead-letter queue refused a message; it is lost", "error", err, "message_id", m.ID, "reason", reason)
		return
	}
	rt.logger.WarnContext(ctx, "message dead-lettered", "message_id", m.ID, "receiver", string(receiver), "reason", reason)
	rt.runDeadLetterHook(d)
}

// runDeadLetterHook calls the host's hook, if any. A panicking hook is
// logged, not allowed to take the worker down.
func (rt *Runtime) runDeadLetterHook(d DeadLetter) {
	if rt.cfg.onDeadLetter == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			rt.logger.Error("dead-letter hook panicked", "panic", r)
		}
	}()
	rt.cfg.onDeadLetter(d)
}

// DeadLetters lists the dead-letter queue, oldest first, as one slice;
// AllDeadLetters scans a long queue without loading it whole. ctx bounds
// the wait for the store (a durable or remote one).
func (rt *Runtime) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	return rt.dlq.List(ctx)
}

// AllDeadLetters yields the dead-letter queue oldest first, a page at a
// time with a store that supports it (store.DeadLetterIterator: both of
// Caxton's stores do), so a long queue can be scanned, filtered or counted
// in bounded memory. When ctx ends it yields ctx's error and stops.
func (rt *Runtime) AllDeadLetters(ctx context.Context) iter.Seq2[DeadLetter, error] {
	if it, ok := rt.dlq.(store.DeadLetterIterator); ok {
		return it.All(ctx)
	}
	return func(yield func(DeadLetter, error) bool) {
		list, err := rt.dlq.List(ctx)
		if err != nil {
			yield(DeadLetter{}, err)
			return
		}
		for _, d := range list {
			if err := ctx.Err(); err != nil {
				yield(DeadLetter{}, err)
				return
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

// ReplayDeadLetters sends dead letters again, each to the agent it was meant for only
// (not to its other receivers, topics or rules), through the normal path,
// with a fresh attempt count. A reply-by that has passed is cleared, or the
// message could never be sent. Replayed entries leave the queue. Unknown ids
// wrap ErrDeadLetterNotFound; per-entry errors are joined.
func (rt *Runtime) ReplayDeadLetters(ctx context.Context, ids ...string) error {
	if ctx == nil {
		return errNilContext
	}
	if err := rt.shutdown.enter(); err != nil {
		return err
	}
	defer rt.shutdown.exit()
	if err := rt.authorizeOp(ctx, ActionReplay, strings.Join(ids, ",")); err != nil {
		return err
	}
	all, err := rt.dlq.List(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]DeadLetter, len(all))
	for _, d := range all {
		byID[d.ID] = d
	}
	var errs []error
	for _, id := range ids {
		d, ok := byID[id]
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %q", ErrDeadLetterNotFound, id))
			continue
		}
		if err := rt.replayOne(ctx, d); err != nil {
			errs = append(errs, fmt.Errorf("caxton: replay %s: %w", id, err))
			continue
		}
		if _, err := rt.dlq.Remove(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (rt *Runtime) replayOne(ctx context.Context, d DeadLetter) error {
	m := d.Message.Clone()
	m.Receivers = []acl.AgentID{d.Receiver}
	if !m.ReplyBy.IsZero() && !m.ReplyBy.After(rt.clock.Now()) {
		m.ReplyBy = time.Time{}
	}
	if err := rt.validator.Validate(m); err != nil {
		return err
	}
	ep, ok := rt.lookup(d.Receiver)
	if !ok {
		return fmt.Errorf("%w: %q", ErrAgentNotFound, d.Receiver)
	}
	return ep.deliver(ctx, m, rt.shutdown.closing, true)
}

// PurgeDeadLetters deletes the given dead letters, or all of them when no
// id is given, and returns how many it deleted. Unknown ids wrap
// ErrDeadLetterNotFound. ctx bounds the wait for the store, and an
// identity in it (WithIdentity) is authorized for ActionPurge, as
// ReplayDeadLetters is for ActionReplay; the purge is audited either way.
func (rt *Runtime) PurgeDeadLetters(ctx context.Context, ids ...string) (int, error) {
	if ctx == nil {
		return 0, errNilContext
	}
	what := strings.Join(ids, ",")
	if what == "" {
		what = "all"
	}
	if err := rt.authorizeOp(ctx, ActionPurge, what); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		all, err := rt.dlq.List(ctx)
		if err != nil {
			return 0, err
		}
		for _, d := range all {
			ids = append(ids, d.ID)
		}
		return rt.dlq.Remove(ctx, ids...)
	}
	n, err := rt.dlq.Remove(ctx, ids...)
	if err == nil && n < len(ids) {
		err = fmt.Errorf("%w: %d of %d ids", ErrDeadLetterNotFound, len(ids)-n, len(ids))
	}
	return n, err
}
