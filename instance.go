package caxton

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync/atomic"

	"github.com/caxton-go/caxton/internal/mailbox"
	"github.com/caxton-go/caxton/store"
)

// instance is one replica of an agent: a mailbox, a handler and the worker
// goroutine that feeds the one to the other, in order.
//
// Ownership. At most one worker runs per instance (the mailbox guarantees
// it), and the fields below are owned in one of three ways:
//
//   - fixed at spawn, read by anyone: a, replica, queue, mb, logReplica (and
//     logger, made once on first use);
//   - the worker's alone while it runs: sc (its goroutine's buffers), one, mc — and cur,
//     replace and lazy, which the worker changes only when it replaces a broken
//     handler (replaceHandler);
//   - the agent's lifecycle (start, stop, Close, Scale, an upgrade's
//     switch), under agent.mu and only while no worker runs (the mailbox is
//     paused and awaitWorkers saw the worker exit): cur, replace, lazy,
//     runCtx and runCancel are set there before the mailbox is resumed, which is what
//     makes them visible to the next worker. The one exception is runCancel, which stop and
//     Close call while a handler may still run — that is its purpose.
//
// live and wasm are atomics because the metrics' observers and Health read
// them from their own goroutines.
type instance struct {
	a       *agent
	replica int
	queue   store.Queue
	mb      *mailbox.Mailbox
	// logger is made on first use (log): most agents never log, and a
	// logger carrying the agent's name is ~120 B and a tenth of a spawn.
	logger     atomic.Pointer[slog.Logger]
	logReplica bool                 // the logger names the replica too
	cur        *slot                // the handler messages go to: the current version's
	next       atomic.Pointer[slot] // the new version's handler during an upgrade
	// runCtx is what handlers get: cancelled when the runtime closes, and
	// when a Stop or Remove gives up waiting for a handler to finish.
	runCtx    context.Context
	runCancel context.CancelFunc
	replace   int  // replacements of this replica so far
	lazy      bool // AgentSpec.Lazy: the handler is made by the first worker
	mc        MessageContext
	sc        *scratch           // the running worker's buffers (acks to flush)
	one       [1]*store.Envelope // scratch for failed() on a single envelope
	// A handler is made, and its sandbox instance if it is a wasm agent.
	live atomic.Pointer[slot] // cur, for readers outside the worker (metrics, Health)
	// spoke: the handler sent a message during the current batch (see
	// run: a worker whose agent is in a conversation waits a moment for
	// the answer before retiring).
	spoke atomic.Bool
	wasm  atomic.Pointer[wasmHandler]
}

func newInstance(a *agent, replica int, q store.Queue) *instance {
	in := &instance{
		a:       a,
		replica: replica,
		queue:   q,
		// Fixed now: Scale changes Replicas later.
		logReplica: len(a.spec.Name) > 0 && a.spec.Replicas > 1,
	}
	in.mb = mailbox.New(q, a.spec.MailboxCapacity, in.launch)
	in.mc.rt, in.mc.in = a.rt, in
	return in
}

// log returns the instance's logger, which names the agent (and the
// replica, if there are several).
func (in *instance) log() *slog.Logger {
	if l := in.logger.Load(); l != nil {
		return l
	}
	l := in.a.rt.logger.With("agent", string(in.a.spec.Name))
	if in.logReplica {
		l = l.With("replica", in.replica)
	}
	if in.logger.CompareAndSwap(nil, l) {
		return l
	}
	return in.logger.Load()
}

// makeHandler sets the instance's handler to the agent's current version's:
// the shared one, or a fresh one from the factory.
func (in *instance) makeHandler(ctx context.Context) error {
	s, err := in.makeSlot(ctx, in.a.version(), in.replace)
	if err != nil {
		return err
	}
	in.cur = s
	in.live.Store(s)
	in.wasm.Store(s.wasm)
	return nil
}

// closeHandler releases the instance's handler (an owned one is closed if
// it is an io.Closer; a shared one belongs to the host).
func (in *instance) closeHandler() {
	in.live.Store(nil)
	in.wasm.Store(nil)
	in.cur.close(in.log)
	in.cur = nil
	if n := in.next.Swap(nil); n != nil {
		n.close(in.log)
	}
}

// load is an instance's queued messages plus those it is handling.
func (in *instance) load() int { return in.mb.Load() }

// launch starts a worker; the mailbox calls it when a message arrives and
// none is running.
func (in *instance) launch() {
	in.a.rt.shutdown.workerStarted()
	in.a.rt.workers.run(in)
}

// call runs s's handler for one envelope, turning a panic into
// *PanicError (and, with DeliveryPolicy.Timeout, an overrun into
// *HungError).
func (in *instance) call(ctx context.Context, s *slot, e *store.Envelope) error {
	if in.a.spec.Delivery.Timeout > 0 {
		// A context of its own: a hung attempt may outlive this call, and
		// the worker goes on changing e.
		mc := &MessageContext{rt: in.a.rt, in: in, msg: e.Msg, attempt: e.Attempts, ver: s.v}
		return in.guard(ctx, s, func(ctx context.Context) error {
			mc.ctx = ctx
			if in.a.spec.MeasureCPU {
				return in.cpuTimed(ctx, func() error { return s.h.HandleMessage(ctx, mc) })
			}
			return s.h.HandleMessage(ctx, mc)
		})
	}
	mc := &in.mc
	mc.msg, mc.attempt, mc.ctx, mc.ver = e.Msg, e.Attempts, ctx, s.v
	defer func() { mc.msg, mc.ctx = nil, nil }()
	return in.protect(func() error { return s.h.HandleMessage(ctx, mc) })
}

func (in *instance) callBatch(ctx context.Context, s *slot, b *Batch) error {
	if in.a.spec.Delivery.Timeout > 0 {
		return in.guard(ctx, s, func(ctx context.Context) error {
			if in.a.spec.MeasureCPU {
				return in.cpuTimed(ctx, func() error { return s.batch.HandleBatch(ctx, b) })
			}
			return s.batch.HandleBatch(ctx, b)
		})
	}
	return in.protect(func() error { return s.batch.HandleBatch(ctx, b) })
}

// protect runs f, turning a panic into *PanicError.
func (in *instance) protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Agent: in.a.name(), Value: r, Stack: debug.Stack()}
		}
	}()
	return f()
}

// ack queues e's acknowledgement; flushAcks hands the queued ones to the
// store under one lock, once per run of messages rather than per message.
func (in *instance) ack(e *store.Envelope) { in.sc.acks = append(in.sc.acks, e) }

func (in *instance) flushAcks() {
	acks := in.sc.acks
	if len(acks) == 0 {
		return
	}
	if err := in.mb.Ack(acks...); err != nil {
		in.log().Error("acknowledging messages", "error", err)
	}
	clear(acks)
	in.sc.acks = acks[:0]
}
