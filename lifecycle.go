package caxton

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
)

// Spawn registers an agent and starts its instances. The name must be free
// (ErrAgentExists otherwise); a malformed spec is a *SpecError naming the
// field. Instances made by spec.NewHandler are created before Spawn returns,
// and a factory error fails the Spawn.
//
// ctx bounds the whole of Spawn, a wasm module's compilation included:
// wasmtime cannot stop a compilation, so when ctx ends during one Spawn
// returns ctx's error at once and the compilation finishes in the
// background, filling the module cache for the next Spawn of those bytes.
func (rt *Runtime) Spawn(ctx context.Context, spec AgentSpec) error {
	if ctx == nil {
		return errNilContext
	}
	if err := rt.shutdown.enter(); err != nil {
		return err
	}
	defer rt.shutdown.exit()
	spec, err := spec.withDefaults()
	if err != nil {
		return err
	}
	if err := rt.authorizeOp(ctx, ActionSpawn, string(spec.Name)); err != nil {
		return err
	}
	if err := rt.checkCaps(spec.Name, 1, spec.Replicas); err != nil {
		return err
	}
	sub := Subject{Kind: SubjectAgent, Name: string(spec.Name), Roles: spec.Roles, Wasm: spec.Wasm != nil}
	for _, t := range spec.Topics {
		if err := rt.authorizeSubscribe(ctx, sub, t); err != nil {
			return err
		}
	}
	var watched []byte // a reloaded file's contents, read before it is compiled
	if spec.Wasm != nil {
		if spec.Wasm.Reload > 0 {
			// Read before compiling, so that a change made at any moment after
			// Spawn began is seen by the reloader (at worst it reloads bytes
			// equal to those compiled), never taken as the baseline.
			watched, _ = os.ReadFile(spec.Wasm.File)
		}
		if spec.NewHandler, err = rt.wasmFactory(ctx, spec.Name, spec.Wasm, spec.Tools); err != nil {
			return err
		}
	}
	return rt.spawn(ctx, spec, false, watched)
}

// spawn registers and starts an agent. watched is the baseline of a
// reloaded file (WasmSpec.Reload).
func (rt *Runtime) spawn(ctx context.Context, spec AgentSpec, internal bool, watched []byte) error {
	a := &agent{rt: rt, spec: spec, internal: internal}
	a.st.Store(uint32(StateStopped))
	a.ver.Store(newVersion(1, spec))
	var bgCtx context.Context // the autoscaler's and reloader's, cancelled by remove
	if spec.Scale.Autoscale != nil || (spec.Wasm != nil && spec.Wasm.Reload > 0) {
		bgCtx, a.quit = context.WithCancel(rt.shutdown.base)
	}
	a.timed = spec.Scale.Autoscale != nil && spec.Scale.Autoscale.UpLatency > 0
	a.quota = newLimiter(spec.Quota, rt.clock.Now())
	if spec.Breaker.Failures > 0 {
		a.brk = newBreaker(a, spec.Breaker)
	}
	insts := make([]*instance, spec.Replicas)
	a.insts.Store(&insts)
	// Messages that waited for the agent are in its queue; senders arriving
	// during the hand-over wait for it.
	finish := rt.takeOffline(spec.Name)
	for i := range insts {
		q, err := rt.store.OpenQueue(queueName(spec.Name, i))
		if err != nil {
			a.closeQueues()
			finish(false)
			return fmt.Errorf("caxton: open queue for %q: %w", spec.Name, err)
		}
		if i == 0 {
			rt.adoptOrphans(spec.Name, spec.Replicas, q)
		}
		insts[i] = newInstance(a, i, q)
	}
	if err := rt.register(a); err != nil {
		a.closeQueues()
		finish(false)
		return err
	}
	finish(true)
	for _, t := range spec.Topics {
		rt.bus.subscribe(t, a)
	}
	// In a cluster the name must be free on every node (cluster.go); the
	// claim comes after registering so the agent's queue on other nodes can
	// be consumed at once.
	if err := rt.claim(ctx, spec, internal); err != nil {
		_ = rt.remove(context.WithoutCancel(ctx), a)
		return err
	}
	if err := a.start(ctx); err != nil {
		_ = rt.remove(ctx, a)
		return err
	}
	if rt.shutdown.isClosed() { // Close began while this agent was starting
		_ = rt.remove(context.WithoutCancel(ctx), a)
		return ErrClosed
	}
	if spec.Scale.Autoscale != nil {
		go a.autoscale(bgCtx)
	}
	if spec.Wasm != nil && spec.Wasm.Reload > 0 {
		go a.reload(bgCtx, watched)
	}
	a.emit(EventSpawned, -1, "")
	return nil
}

// Stop stops an agent's workers after their current message (waiting at
// most until ctx ends). Its mailboxes keep accepting messages, which are
// handled when the agent is started again. If ctx ends first, the agent is
// stopped all the same (no new message is handled), the running handler's
// context is cancelled, and Stop returns ctx's error.
func (rt *Runtime) Stop(ctx context.Context, name acl.AgentID) error {
	if ctx == nil {
		return errNilContext
	}
	a, err := rt.agent(name)
	if err != nil {
		return err
	}
	if err := rt.authorizeOp(ctx, ActionStop, string(name)); err != nil {
		return err
	}
	was := a.state()
	err = a.stop(ctx, StateStopped)
	if was != StateStopped {
		a.emit(EventStopped, -1, "")
	}
	return err
}

// Start starts a stopped or failed agent again, with fresh instances for
// NewHandler agents. Starting a running agent is a no-op.
func (rt *Runtime) Start(ctx context.Context, name acl.AgentID) error {
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
	if err := rt.authorizeOp(ctx, ActionStart, string(name)); err != nil {
		return err
	}
	was := a.state()
	if err := a.start(ctx); err != nil {
		return err
	}
	if was != StateRunning {
		a.emit(EventStarted, -1, "")
	}
	return nil
}

// Restart stops an agent and starts it again with fresh instances; it also
// revives a failed agent.
func (rt *Runtime) Restart(ctx context.Context, name acl.AgentID) error {
	if err := rt.Stop(ctx, name); err != nil {
		return err
	}
	return rt.Start(ctx, name)
}

// Remove stops an agent and unregisters it. Messages still queued for it are
// dead-lettered with reason "agent removed"; topic subscriptions and content
// rules that name it are dropped. If ctx ends while a handler is still
// running, the agent is removed all the same, the handler's context is
// cancelled, its instance is released when it returns, and Remove returns
// ctx's error.
func (rt *Runtime) Remove(ctx context.Context, name acl.AgentID) error {
	if ctx == nil {
		return errNilContext
	}
	a, err := rt.agent(name)
	if err != nil {
		return err
	}
	if err := rt.authorizeOp(ctx, ActionRemove, string(name)); err != nil {
		return err
	}
	return rt.remove(ctx, a)
}

func (rt *Runtime) remove(ctx context.Context, a *agent) error {
	if ctx == nil {
		return errNilContext
	}
	if a.quit != nil {
		a.quit()
	}
	stopErr := a.stop(ctx, StateStopped)
	if stopErr != nil {
		// The agent goes regardless; its instances are released as soon as
		// the handler still running returns (its context is cancelled).
		go func() {
			_ = a.awaitWorkers(context.Background())
			a.mu.Lock()
			defer a.mu.Unlock()
			for _, in := range a.all() {
				in.closeHandler()
			}
		}()
	}
	rt.regMu.Lock()
	delete(rt.endpoints, a.name())
	rt.regMu.Unlock()
	rt.bus.unsubscribeAll(a)
	rt.bus.removeRulesFor(a.name())
	rt.release(ctx, a)
	a.closeMailboxes("agent removed", false)
	rt.logs.forget(a.name())
	a.closeQueues()
	if d, ok := rt.store.(store.Durable); ok { // a removed agent's queues go too
		for i := range a.all() {
			if err := d.DeleteQueue(queueName(a.name(), i)); err != nil {
				rt.logger.Warn("deleting a removed agent's queue", "agent", a.name(), "error", err)
			}
		}
	}
	a.emit(EventRemoved, -1, "")
	return stopErr
}

// Agents lists the agents (not host inboxes), sorted by name; after Close,
// none.
func (rt *Runtime) Agents() []AgentInfo {
	if rt.shutdown.isClosed() {
		return nil
	}
	var out []AgentInfo
	for _, a := range rt.agentsSnapshot() {
		if !a.internal {
			out = append(out, a.info())
		}
	}
	slices.SortFunc(out, func(x, y AgentInfo) int { return cmpString(x.Name, y.Name) })
	return out
}

func cmpString(a, b acl.AgentID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Agent returns a snapshot of one agent; after Close, ErrClosed.
func (rt *Runtime) Agent(name acl.AgentID) (AgentInfo, error) {
	a, err := rt.agent(name)
	if err != nil {
		return AgentInfo{}, err
	}
	return a.info(), nil
}
