package caxton

import (
	"context"
	"fmt"

	"github.com/caxton-go/caxton/acl"
)

// Upgrade moves a running agent to new code — spec's Handler, NewHandler or
// Wasm, with its Version label and Tools; the other fields of spec are not
// read (Scale changes instances; the rest belongs to the agent) — following
// strategy, and returns when the new version took over (nil) or was rolled
// back (a *RollbackError wrapping ErrRolledBack).
//
// The new version is made on every instance beside the old one first (a
// wasm module is compiled, and instantiated per instance); if that fails,
// nothing changed. The instances keep their mailboxes: no queued message
// moves, and the switch happens between two messages. While both versions
// run, each message the new version fails is handled again by the old one,
// so a rollback loses nothing. When ctx ends before the new version took
// over, the upgrade is rolled back and the error wraps ctx's error too.
//
// A stopped or failed agent has no instances to move: its next Start uses
// the new code. One upgrade at a time: a second returns
// ErrUpgradeInProgress. AgentInfo.Rollout shows progress; Watch reports
// EventUpgradeStarted, EventUpgradeStep, EventUpgradePromoted and
// EventUpgradeRolledBack.
func (rt *Runtime) Upgrade(ctx context.Context, name acl.AgentID, spec AgentSpec, strategy Strategy) error {
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
	strategy, err = strategy.withDefaults()
	if err != nil {
		return err
	}
	if err := rt.authorizeOp(ctx, ActionUpgrade, string(name)); err != nil {
		return err
	}
	v, err := rt.codeOf(ctx, a, spec)
	if err != nil {
		return err
	}
	return a.upgrade(ctx, v, strategy)
}

// Rollback gives up an upgrade in progress (its Upgrade returns a
// *RollbackError), or, with none in progress, moves the agent back to the
// version it ran before its last upgrade, blue-green.
func (rt *Runtime) Rollback(ctx context.Context, name acl.AgentID) error {
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
	if err := rt.authorizeOp(ctx, ActionUpgrade, string(name)+" (rollback)"); err != nil {
		return err
	}
	if ro := a.ro.Load(); ro != nil {
		ro.giveUp("rolled back by the host")
		select {
		case <-ro.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	prev := a.prev.Load()
	if prev == nil {
		return fmt.Errorf("caxton: rollback %q: %w", name, ErrNoPreviousVersion)
	}
	return a.upgrade(ctx, prev, Strategy{})
}

// codeOf validates the code fields of spec and makes them the agent's next
// version (compiling a wasm module).
func (rt *Runtime) codeOf(ctx context.Context, a *agent, spec AgentSpec) (*version, error) {
	if spec.Name != "" && spec.Name != a.name() {
		return nil, specErr("Name", "%q: an upgrade keeps the agent's name %q", spec.Name, a.name())
	}
	check := a.spec // the agent's own settings, with spec's code
	check.Version, check.Handler, check.NewHandler, check.Wasm, check.Tools = spec.Version, spec.Handler, spec.NewHandler, spec.Wasm, spec.Tools
	check, err := check.withDefaults()
	if err != nil {
		return nil, err
	}
	if check.Wasm != nil {
		if check.NewHandler, err = rt.wasmFactory(ctx, a.name(), check.Wasm, check.Tools); err != nil {
			return nil, err
		}
	}
	a.mu.Lock()
	n := a.version().n + 1
	a.mu.Unlock()
	return newVersion(n, check), nil
}

// upgrade runs one upgrade of a to v.
func (a *agent) upgrade(ctx context.Context, v *version, strat Strategy) error {
	a.mu.Lock()
	if a.ro.Load() != nil {
		a.mu.Unlock()
		return fmt.Errorf("caxton: upgrade %q: %w", a.name(), ErrUpgradeInProgress)
	}
	from := a.version()
	if a.state() != StateRunning { // nothing runs: the next Start makes v
		a.prev.Store(from)
		a.ver.Store(v)
		a.mu.Unlock()
		a.emit(EventUpgradePromoted, -1, fmt.Sprintf("%s → %s (the agent is %s)", from.label, v.label, a.state()))
		return nil
	}
	ro := newRollout(a, from, v, strat)
	defer close(ro.done)
	// The new version beside the old, on every instance, before any message
	// goes to it.
	for _, in := range a.all() {
		s, err := in.makeSlot(ctx, v, 0)
		if err == nil {
			if hc, ok := s.h.(HealthChecker); ok {
				if herr := hc.CheckHealth(ctx); herr != nil {
					s.close(in.log)
					err = fmt.Errorf("health check: %w", herr)
				}
			}
		}
		if err != nil {
			for _, made := range a.all() {
				if n := made.next.Swap(nil); n != nil {
					n.close(made.log)
				}
			}
			a.mu.Unlock()
			re := &RollbackError{Agent: string(a.name()), From: from.label, To: v.label, Reason: fmt.Sprintf("the new version could not start: %v", err), cause: err}
			a.emit(EventUpgradeRolledBack, -1, re.Reason)
			return re
		}
		in.next.Store(s)
	}
	a.ro.Store(ro)
	a.mu.Unlock()
	a.emit(EventUpgradeStarted, -1, fmt.Sprintf("%s → %s, %s", from.label, v.label, strat.Kind))

	ok := ro.run(ctx)
	if ok {
		if err := a.promote(ctx, ro); err == nil {
			return nil
		}
	}
	return a.rollBack(ctx, ro)
}

// run drives the strategy until the new version handles every message and
// its watch window passed (true), or the rollout was given up or ctx ended
// (false).
func (ro *rollout) run(ctx context.Context) bool {
	a, s := ro.a, ro.strat
	switch s.Kind {
	case Canary:
		for _, p := range s.Steps {
			ro.share.Store(int32(p * 100))
			a.emit(EventUpgradeStep, -1, fmt.Sprintf("%d%% of messages to %s", p, ro.to.label))
			if !ro.wait(ctx, s.StepEvery) {
				return false
			}
		}
	case Rolling:
		n := len(a.all())
		for i := 1; i < n; i++ {
			ro.moved.Store(int32(i))
			a.emit(EventUpgradeStep, i-1, fmt.Sprintf("%d of %d instances on %s", i, n, ro.to.label))
			if !ro.wait(ctx, s.StepEvery) {
				return false
			}
		}
		ro.moved.Store(int32(n))
	}
	ro.share.Store(10000)
	ro.moved.Store(int32(len(a.all())))
	a.emit(EventUpgradeStep, -1, "all messages to "+ro.to.label+" but those of conversations begun on "+ro.from.label)
	if !ro.wait(ctx, s.Watch) {
		return false
	}
	if s.Drain > 0 {
		a.emit(EventUpgradeStep, -1, fmt.Sprintf("draining conversations on %s for %v", ro.from.label, s.Drain))
	}
	return ro.wait(ctx, s.Drain)
}

// promote retires the old version: each instance, between two messages,
// drops its old handler and keeps the new one.
func (a *agent) promote(ctx context.Context, ro *rollout) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ro.isGivenUp() {
		return ErrRolledBack
	}
	for _, in := range a.all() {
		if in.next.Load() == nil { // a crashed new handler not yet replaced
			return ErrRolledBack
		}
	}
	a.ver.Store(ro.to) // a replacement from now on is of the new version
	for i, in := range a.all() {
		bctx := ctx
		if i > 0 {
			// Once an instance runs the new version, the others follow
			// even if ctx ends: a rollback now would leave the promoted
			// ones on the new version under the old one's name. Each wait
			// is one message's handling, as in rollBack.
			bctx = context.WithoutCancel(ctx)
		}
		if err := in.atBoundary(bctx, func() {
			next := in.next.Swap(nil)
			if next == nil {
				// Its new handler crashed after the check above, while the
				// worker finished a message, and was not replaced (the
				// rollout was being given up): start one now, the worker
				// being stopped. If even that fails, the instance keeps
				// the old version until its next replacement, which is
				// of the new one.
				fresh, err := in.makeSlot(bctx, ro.to, 0)
				if err != nil {
					in.log().Error("promoting an upgrade: the new version could not start on this instance; it keeps the old one until it is next replaced",
						"from", ro.from.label, "to", ro.to.label, "error", err)
					return
				}
				next = fresh
			}
			old := in.cur
			in.cur = next
			in.wasm.Store(in.cur.wasm)
			in.live.Store(in.cur)
			in.replace, in.lazy = 0, false
			old.close(in.log)
		}); err != nil {
			a.ver.Store(ro.from)
			return err
		}
	}
	a.prev.Store(ro.from)
	a.ro.Store(nil)
	a.emit(EventUpgradePromoted, -1, fmt.Sprintf("%s → %s", ro.from.label, ro.to.label))
	return nil
}

// rollBack drops the new version's handlers; the old version never
// stopped, so no message waits for it.
func (a *agent) rollBack(ctx context.Context, ro *rollout) error {
	ro.giveUp("the upgrade's context ended")
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ro.Store(nil) // workers stop choosing the new version at once
	for _, in := range a.all() {
		drop := func() {
			if n := in.next.Swap(nil); n != nil {
				n.close(in.log)
			}
		}
		if err := in.atBoundary(context.WithoutCancel(ctx), drop); err != nil {
			drop()
		}
	}
	re := &RollbackError{Agent: string(a.name()), From: ro.from.label, To: ro.to.label, Reason: ro.reason}
	if ctx.Err() != nil && ro.reason == "the upgrade's context ended" {
		re.cause = ctx.Err()
	}
	a.emit(EventUpgradeRolledBack, -1, ro.reason)
	return re
}

// atBoundary runs f on in between two messages: the worker finishes the
// message it handles and stops, f runs, and a running agent's worker
// resumes. The caller holds a.mu.
func (in *instance) atBoundary(ctx context.Context, f func()) error {
	running := in.a.state() == StateRunning
	in.mb.Pause()
	select {
	case <-in.mb.Exited():
	default:
		select {
		case <-in.mb.Exited():
		case <-ctx.Done():
			if running {
				in.mb.Resume()
			}
			return ctx.Err()
		}
	}
	f()
	if running {
		in.mb.Resume()
	}
	return nil
}
