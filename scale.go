package caxton

import (
	"context"
	"fmt"
	"slices"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
)

// Scale sets the number of an agent's instances to n, within the agent's
// ScalePolicy bounds (a *SpecError on field "n" otherwise).
//
// Added instances start at once (a running agent's, with fresh handlers
// from NewHandler or the wasm guest). Retired instances — the highest
// replica numbers — stop receiving new messages at once, finish the message
// they are handling, and their queued messages move, in their order, to the
// least loaded survivor (with a durable store each is on disk in the
// survivor's queue before it leaves the retired one). Nothing is lost; a
// message is handled twice only if the process dies during the move, as
// at-least-once delivery allows.
//
// Scale waits for the retired instances' handlers at most until ctx ends;
// then it returns ctx's error and the agent keeps its instances. During an
// Upgrade it returns ErrUpgradeInProgress.
func (rt *Runtime) Scale(ctx context.Context, name acl.AgentID, n int) error {
	if ctx == nil {
		return errNilContext
	}
	if err := rt.shutdown.enter(); err != nil {
		return err
	}
	defer rt.shutdown.exit()
	a, err := rt.agent(name)
	if err != nil {
		return err
	}
	if err := rt.authorizeOp(ctx, ActionScale, fmt.Sprintf("%s to %d", name, n)); err != nil {
		return err
	}
	if more := n - len(a.all()); more > 0 {
		if err := rt.checkCaps(name, 0, more); err != nil {
			return err
		}
	}
	return a.scale(ctx, n)
}

func (a *agent) scale(ctx context.Context, n int) error {
	lo, hi := a.spec.Scale.bounds()
	if n < lo || n > hi {
		return specErr("n", "%d instances is outside the agent's bounds [%d, %d] (AgentSpec.Scale)", n, lo, hi)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ro.Load() != nil {
		return fmt.Errorf("caxton: scale %q: %w", a.name(), ErrUpgradeInProgress)
	}
	from := len(a.all())
	var err error
	switch {
	case n > from:
		err = a.grow(ctx, n)
	case n < from:
		err = a.shrink(ctx, n)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	a.emit(EventScaled, -1, fmt.Sprintf("%d → %d instances", from, n))
	return nil
}

// grow adds instances up to n. The caller holds a.mu.
func (a *agent) grow(ctx context.Context, n int) error {
	old := a.all()
	added := make([]*instance, 0, n-len(old))
	undo := func() {
		for _, in := range added {
			in.closeHandler()
			in.mb.Close()
			_ = in.queue.Close()
		}
	}
	for i := len(old); i < n; i++ {
		q, err := a.rt.store.OpenQueue(queueName(a.name(), i))
		if err != nil {
			undo()
			return fmt.Errorf("caxton: scale %q: open queue for replica %d: %w", a.name(), i, err)
		}
		in := newInstance(a, i, q)
		added = append(added, in)
		if a.state() != StateRunning {
			continue // Start makes its handler
		}
		if in.lazy = a.spec.Lazy; !in.lazy {
			if err := in.makeHandler(ctx); err != nil {
				undo()
				return err
			}
		}
		in.runCtx, in.runCancel = context.WithCancel(a.rt.shutdown.base)
	}
	next := append(slices.Clone(old), added...)
	a.insts.Store(&next)
	if a.state() == StateRunning {
		for _, in := range added {
			in.mb.Resume()
		}
	}
	return nil
}

// shrink retires the instances from n on. The caller holds a.mu.
func (a *agent) shrink(ctx context.Context, n int) error {
	old := a.all()
	kept, retired := old[:n:n], old[n:]
	// Senders stop picking the retired instances first; one that picked one
	// just before finds its mailbox closed below and picks again (deliver).
	a.insts.Store(&kept)
	for _, in := range retired {
		in.mb.Pause()
	}
	for _, in := range retired {
		select {
		case <-in.mb.Exited():
		case <-ctx.Done():
			// Put them back: the agent keeps its instances.
			for _, r := range retired {
				if a.state() == StateRunning {
					r.mb.Resume()
				}
			}
			a.insts.Store(&old)
			return fmt.Errorf("caxton: scale %q: a retiring instance is still handling a message: %w", a.name(), ctx.Err())
		}
	}
	for _, in := range retired {
		a.moveQueued(in, kept)
		in.closeHandler()
		if in.runCancel != nil {
			in.runCancel()
		}
		_ = in.queue.Close()
		if d, ok := a.rt.store.(store.Durable); ok {
			if err := d.DeleteQueue(queueName(a.name(), in.replica)); err != nil {
				a.rt.logger.Warn("deleting a retired replica's queue", "agent", a.name(), "replica", in.replica, "error", err)
			}
		}
	}
	return nil
}

// moveQueued closes in's mailbox and re-queues what it held, in order, on
// the least loaded of to. Each message is queued (on disk, for a durable
// store) on its new instance before it is acknowledged on the old one.
func (a *agent) moveQueued(in *instance, to []*instance) {
	rest := in.mb.Close()
	if len(rest) == 0 {
		return
	}
	dst := to[0]
	for _, c := range to[1:] {
		if c.load() < dst.load() {
			dst = c
		}
	}
	for _, e := range rest {
		moved := store.Envelope{Msg: e.Msg, Receiver: e.Receiver, Attempts: e.Attempts, Enqueued: e.Enqueued}
		if err := dst.mb.PushForce(moved); err != nil {
			a.rt.deadLetter(a, in, e, "scaled down and not re-queued", err)
		}
		if err := in.mb.Ack(e); err != nil {
			a.rt.logger.Error("acknowledging a moved message", "agent", a.name(), "error", err)
		}
	}
}
