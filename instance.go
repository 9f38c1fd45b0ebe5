package caxton

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/mailbox"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/telemetry"
)

// instance is one replica of an agent: a mailbox, a handler and the worker
// goroutine that feeds the one to the other, in order.
type instance struct {
	a       *agent
	replica int
	queue   store.Queue
	mb      *mailbox.Mailbox
	logger  *slog.Logger
	handler Handler
	batch   BatchHandler      // handler as a BatchHandler, if it is one
	buf     []*store.Envelope // the worker's Take buffer (one worker at a time)
	// runCtx is what handlers get: cancelled when the runtime closes, and
	// when a Stop or Remove gives up waiting for a handler to finish.
	runCtx    context.Context
	runCancel context.CancelFunc
	replace   int // replacements of this replica so far
	mc        MessageContext
	acks      []*store.Envelope  // handled, to be acknowledged (worker-owned)
	one       [1]*store.Envelope // scratch for failed() on a single envelope
	// For the metrics' observers, which read from another goroutine: a
	// handler is made, and its sandbox instance if it is a wasm agent.
	alive atomic.Bool
	wasm  atomic.Pointer[sandbox.Instance]
}

func newInstance(a *agent, replica int, q store.Queue) *instance {
	in := &instance{
		a:       a,
		replica: replica,
		queue:   q,
		logger:  a.rt.logger.With("agent", string(a.spec.Name)),
	}
	in.mb = mailbox.New(q, a.spec.MailboxCapacity, in.launch)
	if len(a.spec.Name) > 0 && a.spec.Replicas > 1 {
		in.logger = in.logger.With("replica", replica)
	}
	in.mc.rt, in.mc.in = a.rt, in
	return in
}

// makeHandler sets the instance's handler: the shared one, or a fresh one
// from the factory.
func (in *instance) makeHandler(ctx context.Context) error {
	h := in.a.spec.Handler
	if f := in.a.spec.NewHandler; f != nil {
		var err error
		h, err = f(ctx, InstanceInfo{Agent: in.a.name(), Replica: in.replica, Restart: in.replace})
		if err != nil {
			return fmt.Errorf("caxton: agent %q replica %d: NewHandler: %w", in.a.name(), in.replica, err)
		}
		if h == nil {
			return fmt.Errorf("caxton: agent %q replica %d: NewHandler returned a nil handler", in.a.name(), in.replica)
		}
	}
	in.handler = h
	in.batch, _ = h.(BatchHandler)
	in.alive.Store(true)
	if w, ok := h.(*wasmHandler); ok {
		in.wasm.Store(w.inst)
	}
	return nil
}

// launch starts a worker; the mailbox calls it when a message arrives and
// none is running.
func (in *instance) launch() {
	in.a.rt.workers.Add(1)
	in.a.rt.running.Add(1)
	go in.run()
}

// run is the worker: take queued envelopes and handle them in order until
// the mailbox is empty (then the worker retires; the next message starts a
// new one) or the mailbox asks it to stop.
func (in *instance) run() {
	rt := in.a.rt
	defer rt.workers.Done()
	defer rt.running.Add(-1)
	defer func() {
		if rt.closed.Load() {
			rt.signalIdle() // however the worker leaves, a draining Close re-checks
		}
	}()
	stop := in.mb.Stopping()
	if in.buf == nil {
		size := 64
		if in.batch != nil {
			size = in.a.spec.BatchSize
		}
		in.buf = make([]*store.Envelope, min(size, in.a.spec.MailboxCapacity))
	}
	buf := in.buf
	for {
		select {
		case <-stop:
			in.mb.Exit()
			return
		default:
		}
		envs := in.mb.Take(buf)
		if len(envs) == 0 {
			// Yield once before retiring: under load the next message is
			// usually a few hundred nanoseconds away, and starting a new
			// worker for it costs more than this.
			runtime.Gosched()
			envs = in.mb.Take(buf)
		}
		if len(envs) == 0 {
			if in.mb.Idle() {
				if rt.closed.Load() {
					rt.signalIdle()
				}
				return
			}
			continue
		}
		var rest []*store.Envelope
		if in.batch != nil {
			rest = in.handleBatch(stop, envs)
		} else {
			for i, e := range envs {
				if stopped(stop) || !in.handleOne(stop, e) {
					rest = envs[i:]
					break
				}
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
		in.mb.Done(len(envs) - len(rest))
		if len(rest) > 0 { // stopped mid-way: put the rest back, in order
			refused, err := in.mb.Release(rest)
			if err != nil && !errors.Is(err, mailbox.ErrClosed) {
				in.logger.Error("returning messages to the queue", "error", err)
			}
			reason := "agent removed"
			if rt.closed.Load() {
				reason = "runtime closed"
			}
			if rt.closed.Load() && rt.isDurable() {
				refused = nil // on disk: delivered again after a restart
			}
			for _, e := range refused { // the mailbox closed under us
				rt.deadLetter(in.a, in, e, reason, nil)
			}
			if len(refused) > 0 {
				if err := in.mb.Ack(refused...); err != nil {
					in.logger.Error("acknowledging dead-lettered messages", "error", err)
				}
			}
		}
		clear(buf)
		if len(rest) > 0 || in.a.state() == StateFailed {
			in.mb.Exit()
			if rt.closed.Load() {
				rt.signalIdle()
			}
			return
		}
	}
}

// stopped reports whether the worker has been asked to stop.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
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
	ctx, sp, start := in.runCtx, telemetry.Span{}, time.Time{}
	if tel := in.a.rt.tel; tel != nil {
		sp = tel.StartProcess(in.runCtx, e.Msg, in.a.name(), in.replica, e.Attempts)
		ctx, start = sp.Context(), time.Now()
	}
	err := in.call(ctx, e)
	if err == nil {
		in.ack(e)
		// End the span before counting: whoever sees the count sees the span.
		sp.EndProcess(in.a.name(), e.Msg.Performative, start, telemetry.Delivered, nil)
		in.a.stats.processed.Add(1)
		return delivered
	}
	in.one[0] = e
	o := in.failed(ctx, stop, in.one[:], err)
	sp.EndProcess(in.a.name(), e.Msg.Performative, start, outcomeOf(o), err)
	return o
}

// outcomeOf maps a failed attempt's outcome to telemetry's.
func outcomeOf(o outcome) telemetry.Outcome {
	switch o {
	case finished:
		return telemetry.DeadLettered
	case abandoned:
		return telemetry.Interrupted
	case delivered:
		return telemetry.Delivered
	}
	return telemetry.Retrying
}

// startBatchSpans starts one consumer span per message of a batch (nil
// when telemetry is off), each continuing its own sender's trace.
func (in *instance) startBatchSpans(envs []*store.Envelope) []telemetry.Span {
	tel := in.a.rt.tel
	if tel == nil {
		return nil
	}
	spans := make([]telemetry.Span, len(envs))
	for i, e := range envs {
		spans[i] = tel.StartProcess(in.runCtx, e.Msg, in.a.name(), in.replica, e.Attempts)
	}
	return spans
}

// recordFuel puts a wasm batch's size and fuel on its spans and counts the
// fuel.
func (in *instance) recordFuel(ctx context.Context, spans []telemetry.Span) {
	if len(spans) == 0 {
		return
	}
	fr, ok := in.handler.(fuelReporter)
	if !ok {
		return
	}
	fuel := fr.FuelUsed()
	for _, sp := range spans {
		sp.SetWasm(len(spans), fuel)
	}
	in.a.rt.tel.Fuel(ctx, in.a.name(), fuel)
}

func (in *instance) endSpan(spans []telemetry.Span, envs []*store.Envelope, i int, start time.Time, out telemetry.Outcome, err error) {
	if len(spans) > 0 {
		spans[i].EndProcess(in.a.name(), envs[i].Msg.Performative, start, out, err)
	}
}

func (in *instance) endSpans(spans []telemetry.Span, envs []*store.Envelope, start time.Time, out telemetry.Outcome, err error) {
	for i := range spans {
		in.endSpan(spans, envs, i, start, out, err)
	}
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
		if in.handler == nil { // the last replacement failed
			return false
		}
		e.Attempts++
		switch in.attempt(stop, e) {
		case delivered, finished:
			return true
		case abandoned:
			return false
		}
		if stopped(stop) || !in.backoff(stop, e.Attempts) {
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
		if in.handler == nil {
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
		err := in.callBatch(ctx, b)
		in.recordFuel(ctx, spans)
		if err == nil {
			in.emit(b.Messages, b.outbox, spans) // inside the spans, before the count
			for i, e := range envs {
				rerr, rejected := b.rejected[i]
				if !rejected {
					in.endSpan(spans, envs, i, start, telemetry.Delivered, nil)
					in.a.stats.processed.Add(1)
				} else {
					in.endSpan(spans, envs, i, start, telemetry.DeadLettered, rerr)
					in.a.rt.deadLetter(in.a, in, e, "rejected by agent", rerr)
				}
				in.ack(e)
			}
			return nil
		}
		if len(envs) > 1 {
			in.endSpans(spans, envs, start, telemetry.Retrying, err)
			return in.splitBatch(stop, envs, err)
		}
		o := in.failed(ctx, stop, envs, err)
		in.endSpans(spans, envs, start, outcomeOf(o), err)
		switch o {
		case finished:
			return nil
		case abandoned:
			return envs
		}
		if stopped(stop) || !in.backoff(stop, envs[0].Attempts) {
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
	in.logger.Warn("batch failed; retrying its messages one by one", "error", err, "messages", len(envs))
	var pe *PanicError
	if (errors.As(err, &pe) || errors.Is(err, ErrInstanceBroken)) && a.spec.NewHandler != nil && !in.replaceHandler(stop, err) {
		return envs
	}
	for _, e := range envs {
		e.Attempts--
	}
	for i := range envs {
		if stopped(stop) {
			return envs[i:]
		}
		if left := in.handleBatch(stop, envs[i:i+1]); len(left) > 0 {
			return envs[i:]
		}
	}
	return nil
}

// failed accounts for a failed attempt of envs and decides what happens
// next: a retry, the dead-letter queue, or (when the worker must stop or the
// agent failed) nothing yet.
func (in *instance) failed(ctx context.Context, stop <-chan struct{}, envs []*store.Envelope, err error) outcome {
	a := in.a
	a.stats.failed.Add(1)
	msg := err.Error()
	a.lastErr.Store(&msg)
	in.logger.WarnContext(ctx, "handler failed", "error", err, "attempt", envs[0].Attempts, "messages", len(envs))
	var pe *PanicError
	if errors.As(err, &pe) || errors.Is(err, ErrInstanceBroken) {
		if a.spec.NewHandler != nil && !in.replaceHandler(stop, err) {
			return abandoned
		}
	}
	if errors.Is(err, ErrPermanent) || envs[0].Attempts >= a.spec.Delivery.MaxAttempts {
		reason := "max attempts"
		if errors.Is(err, ErrPermanent) {
			reason = "permanent failure"
		}
		for _, e := range envs {
			in.a.rt.deadLetter(a, in, e, reason, err)
			in.ack(e)
		}
		return finished
	}
	in.flushAcks() // the store sees earlier acks before this retry
	notBefore := in.a.rt.clock.Now().Add(a.spec.Delivery.Backoff.Delay(envs[0].Attempts))
	for _, e := range envs {
		if rerr := in.mb.RetryAt(e, notBefore); rerr != nil {
			in.logger.Error("recording retry", "error", rerr)
		}
	}
	a.stats.retried.Add(uint64(len(envs)))
	return retry
}

// ack queues e's acknowledgement; flushAcks hands the queued ones to the
// store under one lock, once per run of messages rather than per message.
func (in *instance) ack(e *store.Envelope) { in.acks = append(in.acks, e) }

func (in *instance) flushAcks() {
	if len(in.acks) == 0 {
		return
	}
	if err := in.mb.Ack(in.acks...); err != nil {
		in.logger.Error("acknowledging messages", "error", err)
	}
	clear(in.acks)
	in.acks = in.acks[:0]
}

// backoff waits before attempt n+1. It returns false if the worker was told
// to stop meanwhile. While the runtime closes it does not wait, so a drain
// is not held up by timers (with a durable store it stops instead: the
// message waits on disk).
func (in *instance) backoff(stop <-chan struct{}, n int) bool {
	rt := in.a.rt
	if rt.closed.Load() {
		// Draining: skip the wait — unless the store is durable, where the
		// message can wait out its backoff on disk and be retried after a
		// restart instead of burning its attempts now.
		return !rt.isDurable()
	}
	return in.sleep(stop, in.a.spec.Delivery.Backoff.Delay(n))
}

func (in *instance) sleep(stop <-chan struct{}, d time.Duration) bool {
	t := in.a.rt.clock.NewTimer(d)
	select {
	case <-t.C():
		return true
	case <-stop:
		t.Stop()
		return false
	case <-in.a.rt.closing:
		t.Stop()
		return !in.a.rt.isDurable() // see backoff
	}
}

// replaceHandler discards a broken NewHandler instance and makes a fresh one
// after the restart backoff. More replacements than the policy allows within
// its window fail the agent; then it returns false.
func (in *instance) replaceHandler(stop <-chan struct{}, cause error) bool {
	a := in.a
	pol := a.spec.Restart
	for {
		in.closeHandler()
		now := a.rt.clock.Now().UnixNano()
		a.rmu.Lock()
		cut := now - int64(pol.Window)
		kept := a.restartAt[:0]
		for _, t := range a.restartAt {
			if t > cut {
				kept = append(kept, t)
			}
		}
		a.restartAt = append(kept, now)
		recent := len(a.restartAt)
		a.rmu.Unlock()
		if recent > pol.MaxRestarts {
			a.fail(fmt.Errorf("%d instance replacements within %v, last cause: %w", recent, pol.Window, cause))
			return false
		}
		in.replace++
		a.stats.restarts.Add(1)
		in.logger.Warn("replacing instance", "cause", cause, "replacement", in.replace)
		if !a.rt.closed.Load() && !in.sleep(stop, pol.Backoff.Delay(in.replace)) {
			return false
		}
		err := in.makeHandler(a.rt.baseCtx)
		if err == nil {
			return true
		}
		cause = err
	}
}

// call runs the handler for one envelope, turning a panic into *PanicError.
func (in *instance) call(ctx context.Context, e *store.Envelope) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Agent: in.a.name(), Value: r, Stack: debug.Stack()}
		}
	}()
	mc := &in.mc
	mc.msg, mc.attempt, mc.ctx = e.Msg, e.Attempts, ctx
	defer func() { mc.msg, mc.ctx = nil, nil }()
	return in.handler.HandleMessage(ctx, mc)
}

func (in *instance) callBatch(ctx context.Context, b *Batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Agent: in.a.name(), Value: r, Stack: debug.Stack()}
		}
	}()
	return in.batch.HandleBatch(ctx, b)
}

// emit sends a successful batch's outbox, stamping the agent as sender. A
// message claiming another sender is rejected and logged: an instance cannot
// speak for someone else.
func (in *instance) emit(batch, out []*acl.Message, spans []telemetry.Span) {
	self := in.a.name()
	for _, m := range out {
		if m == nil {
			in.logger.Warn("outbox: nil message rejected")
			continue
		}
		if m.Sender != "" && m.Sender != self {
			in.logger.Warn("outbox: forged sender rejected", "claimed", truncateNotice(string(m.Sender)))
			continue
		}
		m.Sender = self
		// The runtime, not the guest, says when a message was sent and
		// which id it has: a guest cannot reuse ids or back-date messages.
		m.ID, m.CreatedAt = acl.MessageID{}, time.Time{}
		ctx := in.runCtx
		if len(spans) > 0 {
			ctx = parentFor(m, batch, spans).Context()
		}
		if err := in.a.rt.route(ctx, m, nil, in.a); err != nil {
			in.logger.Warn("outbox: send failed", "error", truncateNotice(err.Error()), "performative", m.Performative.String(), "receivers", len(m.Receivers))
		}
	}
}
