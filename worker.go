package caxton

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/mailbox"
	"github.com/caxton-go/caxton/internal/otelrt"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/telemetry"
)

// scratch is a worker goroutine's reusable buffers, lent to the instance
// it runs for as long as it runs: an idle agent holds none (a million
// sleeping agents would otherwise keep a batch's worth of pointers each).
type scratch struct {
	buf  []*store.Envelope // Take's buffer
	acks []*store.Envelope // handled, to be acknowledged (instance.acks)
	// stop is lent to each mailbox as its stop channel (mailbox.Lend),
	// replaced when a Pause closed it.
	stop chan struct{}
	// handoff is the goroutine's channel while it is parked in the worker
	// pool (workerPool.loop); a goroutine that exits unparked leaves it to
	// the next one with these buffers.
	handoff chan *instance
}

// run is the worker: take queued envelopes and handle them in order until
// the mailbox is empty (then the worker retires; the next message starts a
// new one) or the mailbox asks it to stop. sc lends it buffers. A handler
// that ends the goroutine (runtime.Goexit, which no recover stops) is
// cleaned up after: see goexited.
func (in *instance) run(sc *scratch) {
	defer in.a.rt.shutdown.workerExited()
	var w inHand
	returned := false
	defer func() {
		if !returned {
			in.goexited(&w)
		}
	}()
	in.work(sc, &w)
	returned = true
}

// work is run's loop; w says which taken envelopes are in hand.
func (in *instance) work(sc *scratch, w *inHand) {
	rt := in.a.rt
	if sc.stop == nil || isDone(sc.stop) {
		sc.stop = make(chan struct{})
	}
	stop := in.mb.Lend(sc.stop)
	size := min(in.a.spec.BatchSize, in.a.spec.MailboxCapacity)
	if cap(sc.buf) < size {
		sc.buf = make([]*store.Envelope, size)
		sc.acks = make([]*store.Envelope, 0, size) // a batch's acks, without growing
	}
	buf := sc.buf[:size]
	// Lent while the worker runs, taken back before it retires (after
	// that another worker may run the instance at once): an instance
	// must not keep an exited goroutine's buffers alive.
	in.sc = sc
	// AgentSpec.MeasureCPU: the worker keeps its OS thread, so the thread's
	// CPU clock, read around each batch it takes, is this agent's alone.
	// (With a delivery timeout each call runs on a goroutine of its own and
	// is measured there: see cpuTimed.)
	measure := in.a.spec.MeasureCPU && in.a.spec.Delivery.Timeout == 0
	if measure {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	if in.lazy { // AgentSpec.Lazy: the first message makes the handler
		in.lazy = false
		if err := in.makeHandler(in.runCtx); err != nil && !in.replaceHandler(stop, err) {
			in.sc = nil
			in.mb.Exit()
			return
		}
	}
	for {
		select {
		case <-stop:
			in.sc = nil
			in.mb.Exit()
			return
		default:
		}
		envs := in.mb.Take(buf)
		if len(envs) == 0 && in.spoke.Load() {
			// The agent just sent (a reply, a request): it is in a
			// conversation, and the next message — the answer, or the
			// requester's next request — is usually a few hundred
			// nanoseconds away; yielding once lets its sender run and
			// costs less than a new worker. An agent that did not speak
			// retires at once: under a load of one-way messages, a yield
			// queues the worker behind every runnable goroutine while its
			// next message waits for it (it was 96 % of the load run's
			// scheduling delay).
			runtime.Gosched()
			envs = in.mb.Take(buf)
		}
		if len(envs) == 0 {
			in.sc = nil
			if in.mb.Idle() {
				return
			}
			in.sc = sc
			continue
		}
		in.spoke.Store(false)
		w.taken, w.done = envs, 0
		var cpu0 time.Duration
		if measure {
			cpu0 = threadCPUTime()
		}
		var rest []*store.Envelope
		if in.cur != nil && in.cur.batch != nil {
			envs = in.oneVersion(envs)
			rest = in.handleBatch(stop, envs)
		} else {
			for i, e := range envs {
				if isDone(stop) || !in.handleOne(stop, e) {
					rest = envs[i:]
					break
				}
				w.done = i + 1
			}
		}
		if len(rest) > 0 && in.a.state() == StateFailed && !rt.isDurable() { // durable: they wait for a Start
			var cause error
			if p := in.a.lastErr.Load(); p != nil {
				cause = errors.New(*p)
			}
			for _, e := range rest {
				rt.deadLetter(in.a, in, e, "agent failed", cause)
				in.ack(e)
			}
			rest = nil
		}
		in.flushAcks()
		if measure {
			in.chargeCPU(in.runCtx, threadCPUTime()-cpu0)
		}
		in.mb.Done(len(envs) - len(rest))
		w.taken = nil
		if len(rest) > 0 { // stopped mid-way: put the rest back, in order
			in.putBack(rest)
		}
		clear(buf)
		if len(rest) > 0 || in.a.state() == StateFailed {
			in.sc = nil
			in.mb.Exit()
			return
		}
	}
}

// outcome is what became of a failed attempt.
type outcome uint8

const (
	retry     outcome = iota // try again after backoff
	finished                 // dead-lettered and acknowledged
	abandoned                // still in flight: the worker stops or the agent failed
	delivered                // handled and acknowledged
)

// attempt runs one handling attempt of e — in a consumer span when
// telemetry is on — and accounts for its result.
func (in *instance) attempt(stop <-chan struct{}, e *store.Envelope) outcome {
	ctx, sp, start := in.runCtx, otelrt.Span{}, time.Time{}
	if tel := in.a.rt.tel; tel != nil {
		sp = tel.StartProcess(in.runCtx, e.Msg, in.a.name(), in.replica, e.Attempts)
		ctx, start = sp.Context(), time.Now()
	}
	err := in.handle(ctx, e)
	if err == nil {
		in.ack(e)
		// End the span before counting: whoever sees the count sees the span.
		sp.EndProcess(in.a.name(), e.Msg.Performative, start, otelrt.Delivered, nil)
		in.a.stats.processed.Add(1)
		return delivered
	}
	in.one[0] = e
	return in.failed(ctx, stop, in.one[:], err, func(o outcome) {
		sp.EndProcess(in.a.name(), e.Msg.Performative, start, outcomeOf(o), err)
	})
}

// handle runs one attempt of e on the version the rollout (if any) picks,
// and feeds the breaker and the autoscaler's latency.
func (in *instance) handle(ctx context.Context, e *store.Envelope) error {
	a := in.a
	s, ro := in.slotFor(e.Msg)
	var t0 time.Time
	if a.timed {
		t0 = a.rt.clock.Now()
	}
	var err error
	if ro != nil {
		err = in.callNew(ctx, ro, s, func(s *slot) error { return in.call(ctx, s, e) })
	} else {
		err = in.call(ctx, s, e)
	}
	if a.timed {
		a.stats.busyNanos.Add(uint64(max(a.rt.clock.Now().Sub(t0), 0)))
		a.stats.timed.Add(1)
	}
	a.brk.result(err == nil)
	return err
}

// handleBatchOn runs one attempt of a batch on the version the rollout (if
// any) picks for its first message; see handle.
func (in *instance) handleBatchOn(ctx context.Context, first *store.Envelope, b *Batch) error {
	a := in.a
	s, ro := in.slotFor(first.Msg)
	call := func(s *slot) error {
		b.outbox, b.rejected = b.outbox[:0], nil // a failed attempt's sends are not sent
		return in.callBatch(ctx, s, b)
	}
	var t0 time.Time
	if a.timed {
		t0 = a.rt.clock.Now()
	}
	var err error
	if ro != nil {
		err = in.callNew(ctx, ro, s, call)
	} else {
		err = call(s)
	}
	if a.timed {
		a.stats.busyNanos.Add(uint64(max(a.rt.clock.Now().Sub(t0), 0)))
		a.stats.timed.Add(uint64(len(b.Messages)))
	}
	a.brk.result(err == nil)
	return err
}

// oneVersion cuts a taken batch, during an upgrade, to the leading messages
// that go to the same version, and puts the rest back (in order) for the
// next take: a batch handler sees one version's messages at a time, and a
// conversation kept on one version stays there.
func (in *instance) oneVersion(envs []*store.Envelope) []*store.Envelope {
	if in.next.Load() == nil || len(envs) < 2 {
		return envs
	}
	first, _ := in.slotFor(envs[0].Msg)
	for i, e := range envs[1:] {
		if s, _ := in.slotFor(e.Msg); s != first {
			if refused, err := in.mb.Release(envs[i+1:]); err != nil {
				in.log().Error("returning messages to the queue", "error", err)
				for _, e := range refused {
					in.a.rt.deadLetter(in.a, in, e, "agent removed", nil)
				}
				if err := in.mb.Ack(refused...); err != nil {
					in.log().Error("acknowledging dead-lettered messages", "error", err)
				}
			}
			return envs[:i+1]
		}
	}
	return envs
}

// handleOne handles e until it succeeds, is dead-lettered, or the worker is
// told to stop (then it returns false and e is still in flight).
func (in *instance) handleOne(stop <-chan struct{}, e *store.Envelope) bool {
	if e.Attempts > 0 { // a retry from before a restart keeps its backoff
		if wait := in.mb.NotBefore(e).Sub(in.a.rt.clock.Now()); wait > 0 && !in.sleep(stop, wait) {
			return false
		}
	}
	for {
		if in.cur == nil { // the last replacement failed
			return false
		}
		e.Attempts++
		switch in.attempt(stop, e) {
		case delivered, finished:
			return true
		case abandoned:
			return false
		}
		if isDone(stop) || !in.backoff(stop, e.Attempts) {
			return false // retried by the next worker, or dead-lettered if the mailbox closed
		}
	}
}

// handleBatch hands envs to the BatchHandler until the batch succeeds or
// all of it is dead-lettered. It returns the envelopes still in flight if
// the worker is told to stop.
func (in *instance) handleBatch(stop <-chan struct{}, envs []*store.Envelope) []*store.Envelope {
	b := &Batch{Messages: make([]*acl.Message, 0, len(envs))}
	for {
		if in.cur == nil {
			return envs
		}
		b.Messages = b.Messages[:0]
		for _, e := range envs {
			e.Attempts++
			b.Messages = append(b.Messages, e.Msg)
		}
		b.Attempt, b.outbox, b.rejected = envs[0].Attempts, b.outbox[:0], nil
		spans := in.startBatchSpans(envs)
		ctx := in.runCtx
		if len(spans) > 0 {
			ctx = spans[0].Context()
		}
		start := time.Now()
		err := in.handleBatchOn(ctx, envs[0], b)
		in.recordFuel(ctx, spans)
		if err == nil {
			if len(b.outbox) > 0 {
				in.spoke.Store(true)
			}
			in.emit(b.Messages, b.outbox, spans) // inside the spans, before the count
			for i, e := range envs {
				rerr, rejected := b.rejected[i]
				if !rejected {
					in.endSpan(spans, envs, i, start, otelrt.Delivered, nil)
					in.a.stats.processed.Add(1)
				} else {
					in.endSpan(spans, envs, i, start, otelrt.DeadLettered, rerr)
					in.a.rt.deadLetter(in.a, in, e, "rejected by agent", rerr)
				}
				in.ack(e)
			}
			return nil
		}
		if len(envs) > 1 {
			in.endSpans(spans, envs, start, otelrt.Retrying, err)
			return in.splitBatch(stop, envs, err)
		}
		o := in.failed(ctx, stop, envs, err, func(o outcome) { in.endSpans(spans, envs, start, outcomeOf(o), err) })
		switch o {
		case finished:
			return nil
		case abandoned:
			return envs
		}
		if isDone(stop) || !in.backoff(stop, envs[0].Attempts) {
			return envs
		}
	}
}

// splitBatch handles a failed multi-message batch: which message failed it
// cannot be told, so instead of retrying (and finally dead-lettering) them
// all together, each message is tried again on its own, in order, and only
// the guilty ones go the retry → dead-letter way. The failed batch attempt
// is not counted against the messages.
func (in *instance) splitBatch(stop <-chan struct{}, envs []*store.Envelope, err error) []*store.Envelope {
	a := in.a
	a.stats.failed.Add(1)
	msg := err.Error()
	a.lastErr.Store(&msg)
	// The first message's trace and id, as "handler failed" has them.
	ctx := telemetry.Extract(in.a.rt.shutdown.base, envs[0].Msg)
	in.log().WarnContext(ctx, "batch failed; retrying its messages one by one", "error", err, "message_id", envs[0].Msg.ID, "messages", len(envs))
	var pe *PanicError
	if (errors.As(err, &pe) || errors.Is(err, ErrInstanceBroken)) && in.cur.v.owned() && !in.replaceHandler(stop, err) {
		return envs
	}
	for _, e := range envs {
		e.Attempts--
	}
	for i := range envs {
		if isDone(stop) {
			return envs[i:]
		}
		if left := in.handleBatch(stop, envs[i:i+1]); len(left) > 0 {
			return envs[i:]
		}
	}
	return nil
}

// emit sends a successful batch's outbox from the agent. The send path
// stamps the agent as sender, refuses a message claiming another (an
// instance cannot speak for someone else) and gives every message a fresh
// id and creation time; a message that cannot be sent is logged, since the
// batch that produced it has already succeeded.
func (in *instance) emit(batch, out []*acl.Message, spans []otelrt.Span) {
	from := originOf(in.a)
	if limit := in.a.spec.Quota.OutboxPerBatch; limit > 0 && len(out) > limit {
		qe := &QuotaError{Agent: in.a.name(), Quota: "outbox per batch", Limit: float64(limit)}
		in.log().Warn("outbox: messages over the quota refused", "sent", limit, "refused", len(out)-limit)
		if m := out[limit]; m != nil {
			in.a.rt.quotaHit(in.a, m, qe) // the refuse answers the first message refused
		} else {
			in.a.rt.quotaHit(in.a, nil, qe)
		}
		out = out[:limit]
	}
	for _, m := range out {
		if m == nil {
			in.log().Warn("outbox: nil message rejected")
			continue
		}
		ctx := in.runCtx
		if len(spans) > 0 {
			ctx = parentFor(m, batch, spans).Context()
		}
		err := in.a.rt.send(ctx, m, from, nil)
		switch {
		case errors.Is(err, ErrForgedSender):
			in.log().WarnContext(ctx, "outbox: forged sender rejected", "claimed", truncateNotice(string(m.Sender)))
		case err != nil:
			in.log().WarnContext(ctx, "outbox: send failed", "error", truncateNotice(err.Error()), "performative", m.Performative.String(), "receivers", len(m.Receivers))
		}
	}
}

// putBack returns taken envelopes to the mailbox, in order; those it
// refuses (it closed under the worker) are dead-lettered.
func (in *instance) putBack(rest []*store.Envelope) {
	rt := in.a.rt
	refused, err := in.mb.Release(rest)
	if err != nil && !errors.Is(err, mailbox.ErrClosed) {
		in.log().Error("returning messages to the queue", "error", err)
	}
	reason := "agent removed"
	if rt.shutdown.isClosed() {
		reason = "runtime closed"
	}
	if rt.shutdown.isClosed() && rt.isDurable() {
		refused = nil // on disk: delivered again after a restart
	}
	for _, e := range refused { // the mailbox closed under us
		rt.deadLetter(in.a, in, e, reason, nil)
	}
	if len(refused) > 0 {
		if err := in.mb.Ack(refused...); err != nil {
			in.log().Error("acknowledging dead-lettered messages", "error", err)
		}
	}
}
