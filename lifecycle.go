package caxton

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/mailbox"
	"github.com/caxton-go/caxton/store"
)

// agent is a registered agent: its spec, its instances and their mailboxes
// (which outlive Stop/Start, so messages wait while it is stopped), and its
// counters.
type agent struct {
	rt        *Runtime
	spec      AgentSpec
	internal  bool // a host subscription, not listed by Agents
	mu        sync.Mutex
	st        atomic.Uint32 // State
	instances []*instance
	rr        atomic.Uint64
	stats     agentStats
	lastErr   atomic.Pointer[string]
	rmu       sync.Mutex // guards restartAt; never held while waiting
	restartAt []int64    // unix nanos of recent replacements, for the window
}

type agentStats struct {
	processed, failed, retried, deadLettered, restarts atomic.Uint64
}

func (a *agent) name() acl.AgentID { return a.spec.Name }
func (a *agent) state() State      { return State(a.st.Load()) }

// Spawn registers an agent and starts its instances. The name must be free
// (ErrAgentExists otherwise); a malformed spec is a *SpecError naming the
// field. Instances made by spec.NewHandler are created before Spawn returns,
// and a factory error fails the Spawn.
func (rt *Runtime) Spawn(ctx context.Context, spec AgentSpec) error {
	if ctx == nil {
		return errNilContext
	}
	if err := rt.hostEnter(); err != nil {
		return err
	}
	defer rt.hostExit()
	spec, err := spec.withDefaults()
	if err != nil {
		return err
	}
	if spec.Wasm != nil {
		if spec.NewHandler, err = rt.wasmFactory(spec.Name, spec.Wasm, spec.Tools); err != nil {
			return err
		}
	}
	return rt.spawn(ctx, spec, false)
}

func (rt *Runtime) spawn(ctx context.Context, spec AgentSpec, internal bool) error {
	a := &agent{rt: rt, spec: spec, internal: internal}
	a.st.Store(uint32(StateStopped))
	a.instances = make([]*instance, spec.Replicas)
	// Messages that waited for the agent are in its queue; senders arriving
	// during the hand-over wait for it.
	finish := rt.takeOffline(spec.Name)
	for i := range a.instances {
		q, err := rt.store.OpenQueue(queueName(spec.Name, i))
		if err != nil {
			a.closeQueues()
			finish(false)
			return fmt.Errorf("caxton: open queue for %q: %w", spec.Name, err)
		}
		if i == 0 {
			rt.adoptOrphans(spec.Name, spec.Replicas, q)
		}
		a.instances[i] = newInstance(a, i, q)
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
	if err := a.start(ctx); err != nil {
		_ = rt.remove(ctx, a)
		return err
	}
	if rt.closed.Load() { // Close began while this agent was starting
		_ = rt.remove(context.WithoutCancel(ctx), a)
		return ErrClosed
	}
	return nil
}

func (rt *Runtime) register(ep endpoint) error {
	name := ep.name()
	if name == rt.cfg.systemName {
		return fmt.Errorf("%w: %q is the runtime's system name", ErrAgentExists, name)
	}
	rt.regMu.Lock()
	defer rt.regMu.Unlock()
	if _, ok := rt.endpoints[name]; ok {
		return fmt.Errorf("%w: %q", ErrAgentExists, name)
	}
	rt.endpoints[name] = ep
	return nil
}

func (rt *Runtime) lookup(name acl.AgentID) (endpoint, bool) {
	rt.regMu.RLock()
	ep, ok := rt.endpoints[name]
	rt.regMu.RUnlock()
	return ep, ok
}

func (rt *Runtime) agent(name acl.AgentID) (*agent, error) {
	if ep, ok := rt.lookup(name); ok {
		if a, ok := ep.(*agent); ok && !a.internal {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrAgentNotFound, name)
}

func (rt *Runtime) agentsSnapshot() []*agent {
	rt.regMu.RLock()
	defer rt.regMu.RUnlock()
	out := make([]*agent, 0, len(rt.endpoints))
	for _, ep := range rt.endpoints {
		if a, ok := ep.(*agent); ok {
			out = append(out, a)
		}
	}
	return out
}

// Stop stops an agent's workers after their current message (waiting at
// most until ctx ends). Its mailboxes keep accepting messages, which are
// handled when the agent is started again. If ctx ends first, the agent is
// stopped all the same (no new message is handled), the running handler's
// context is cancelled, and Stop returns ctx's error.
func (rt *Runtime) Stop(ctx context.Context, name acl.AgentID) error {
	a, err := rt.agent(name)
	if err != nil {
		return err
	}
	return a.stop(ctx, StateStopped)
}

// Start starts a stopped or failed agent again, with fresh instances for
// NewHandler agents. Starting a running agent is a no-op.
func (rt *Runtime) Start(ctx context.Context, name acl.AgentID) error {
	if ctx == nil {
		return errNilContext
	}
	if err := rt.hostEnter(); err != nil {
		return err
	}
	defer rt.hostExit()
	a, err := rt.agent(name)
	if err != nil {
		return err
	}
	return a.start(ctx)
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
	a, err := rt.agent(name)
	if err != nil {
		return err
	}
	return rt.remove(ctx, a)
}

func (rt *Runtime) remove(ctx context.Context, a *agent) error {
	if ctx == nil {
		return errNilContext
	}
	stopErr := a.stop(ctx, StateStopped)
	if stopErr != nil {
		// The agent goes regardless; its instances are released as soon as
		// the handler still running returns (its context is cancelled).
		go func() {
			_ = a.awaitWorkers(context.Background())
			a.mu.Lock()
			defer a.mu.Unlock()
			for _, in := range a.instances {
				in.closeHandler()
			}
		}()
	}
	rt.regMu.Lock()
	delete(rt.endpoints, a.name())
	rt.regMu.Unlock()
	rt.bus.unsubscribeAll(a)
	rt.bus.removeRulesFor(a.name())
	a.closeMailboxes("agent removed", false)
	a.closeQueues()
	if d, ok := rt.store.(store.Durable); ok { // a removed agent's queues go too
		for i := range a.instances {
			if err := d.DeleteQueue(queueName(a.name(), i)); err != nil {
				rt.logger.Warn("deleting a removed agent's queue", "agent", a.name(), "error", err)
			}
		}
	}
	return stopErr
}

// Agents lists the agents (not host inboxes), sorted by name.
func (rt *Runtime) Agents() []AgentInfo {
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

// Agent returns a snapshot of one agent.
func (rt *Runtime) Agent(name acl.AgentID) (AgentInfo, error) {
	a, err := rt.agent(name)
	if err != nil {
		return AgentInfo{}, err
	}
	return a.info(), nil
}

func (a *agent) info() AgentInfo {
	inf := AgentInfo{
		Name:         a.name(),
		State:        a.state(),
		Replicas:     len(a.instances),
		Processed:    a.stats.processed.Load(),
		Failed:       a.stats.failed.Load(),
		Retried:      a.stats.retried.Load(),
		DeadLettered: a.stats.deadLettered.Load(),
		Restarts:     a.stats.restarts.Load(),
		Topics:       a.rt.bus.topicsOf(a),
		Capabilities: slices.Clone(a.spec.Capabilities),
	}
	for _, in := range a.instances {
		d := in.mb.Depth()
		inf.QueueDepth += d
		inf.InFlight += in.mb.Load() - d
	}
	if p := a.lastErr.Load(); p != nil {
		inf.LastError = *p
	}
	return inf
}

// start makes handlers (for NewHandler agents) and lets the mailboxes start
// workers (one at a time per instance, on demand).
func (a *agent) start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state() == StateRunning {
		return nil
	}
	// A worker from before (a Stop that timed out, a failed agent's last
	// message) must be gone before its handler is replaced.
	if err := a.awaitWorkers(ctx); err != nil {
		return fmt.Errorf("caxton: start %q: a worker is still finishing: %w", a.name(), err)
	}
	for _, in := range a.instances {
		in.closeHandler()
		if err := in.makeHandler(ctx); err != nil {
			for _, made := range a.instances {
				made.closeHandler()
			}
			return err
		}
	}
	a.rmu.Lock()
	a.restartAt = a.restartAt[:0]
	a.rmu.Unlock()
	for _, in := range a.instances {
		in.runCtx, in.runCancel = context.WithCancel(a.rt.baseCtx)
	}
	a.st.Store(uint32(StateRunning))
	for _, in := range a.instances {
		in.mb.Resume()
	}
	return nil
}

// stop pauses every mailbox and waits for its worker to finish the current
// message (bounded by ctx), then releases NewHandler instances. The final
// state is st.
func (a *agent) stop(ctx context.Context, st State) error {
	if ctx == nil {
		return errNilContext
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, in := range a.instances {
		in.mb.Pause()
	}
	// The agent counts as stopped from here on, even if a handler is still
	// finishing: its mailbox is paused, and start waits for the worker.
	a.st.Store(uint32(st))
	err := a.awaitWorkers(ctx)
	for _, in := range a.instances {
		if in.runCancel != nil {
			in.runCancel() // a handler still running sees its context end
		}
	}
	if err != nil {
		return fmt.Errorf("caxton: stop %q: a handler is still running: %w", a.name(), err)
	}
	for _, in := range a.instances {
		in.closeHandler()
	}
	return nil
}

// awaitWorkers waits until no worker of the agent runs.
func (a *agent) awaitWorkers(ctx context.Context) error {
	for _, in := range a.instances {
		select { // a worker already gone wins over an ended ctx (select picks at random)
		case <-in.mb.Exited():
			continue
		default:
		}
		select {
		case <-in.mb.Exited():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// stopWorkers asks every worker to stop after its current message, without
// waiting, and keeps new ones from starting.
func (a *agent) stopWorkers() {
	for _, in := range a.instances {
		in.mb.Pause()
	}
}

// closeMailboxes closes every mailbox and dead-letters what was queued.
//
// With keep (a durable store at runtime close) nothing is dead-lettered:
// the messages stay on disk and are delivered after a restart.
func (a *agent) closeMailboxes(reason string, keep bool) int {
	n := 0
	for _, in := range a.instances {
		rest := in.mb.Close()
		if keep {
			continue
		}
		for _, e := range rest {
			a.rt.deadLetter(a, in, e, reason, nil)
			n++
		}
		if len(rest) > 0 {
			if err := in.mb.Ack(rest...); err != nil {
				a.rt.logger.Error("acknowledging dead-lettered messages", "agent", a.name(), "error", err)
			}
		}
	}
	return n
}

func (a *agent) closeQueues() {
	for _, in := range a.instances {
		if in != nil {
			_ = in.queue.Close()
		}
	}
}

// fail marks the agent failed after its restart policy gave up: new
// messages are refused with ErrAgentFailed, every queued message is
// dead-lettered (reason "agent failed"), and each worker exits after its
// current message. Restart or Start brings the agent back.
func (a *agent) fail(cause error) {
	a.st.Store(uint32(StateFailed))
	msg := cause.Error()
	a.lastErr.Store(&msg)
	a.rt.logger.Error("agent failed: restart policy exhausted", "agent", a.name(), "error", cause)
	a.stopWorkers()
	if a.rt.isDurable() {
		return // its messages wait on disk until the host starts it again
	}
	for _, in := range a.instances {
		buf := make([]*store.Envelope, 64)
		for {
			batch := in.mb.Take(buf)
			if len(batch) == 0 {
				break
			}
			for _, e := range batch {
				a.rt.deadLetter(a, in, e, "agent failed", cause)
			}
			if err := in.mb.Ack(batch...); err != nil {
				a.rt.logger.Error("acknowledging dead-lettered messages", "agent", a.name(), "error", err)
			}
			in.mb.Done(len(batch))
		}
	}
}

// deliver queues m for one of the agent's instances.
func (a *agent) deliver(ctx context.Context, m *acl.Message, abort <-chan struct{}, mayBlock bool) error {
	if a.state() == StateFailed && !a.rt.isDurable() { // durable: it waits for a Start
		return ErrAgentFailed
	}
	in := a.pick()
	e := &store.Envelope{Msg: m, Receiver: a.name(), Enqueued: m.CreatedAt}
	err := in.mb.Push(ctx, e, mayBlock && a.spec.Overflow == Block, abort)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mailbox.ErrFull), errors.Is(err, store.ErrFull):
		return ErrMailboxFull
	case errors.Is(err, mailbox.ErrClosed), errors.Is(err, mailbox.ErrAborted):
		return ErrClosed
	}
	return err
}

// deliverNotice queues a runtime notice (a FIPA failure about the agent's
// own send) without blocking — the agent's handler may be the sender — and
// beyond capacity, but only up to twice the capacity, so an agent that keeps
// sending to unknown names cannot flood its own mailbox with notices. Past
// that the notice is refused (and logged by the caller); the send itself
// already failed with an error.
func (a *agent) deliverNotice(m *acl.Message) error {
	in := a.pick()
	if in.mb.Load() >= 2*a.spec.MailboxCapacity {
		return fmt.Errorf("%w: notice suppressed, the mailbox holds twice its capacity", ErrMailboxFull)
	}
	e := &store.Envelope{Msg: m, Receiver: a.name(), Enqueued: m.CreatedAt}
	return in.mb.PushForce(e)
}

func (a *agent) pick() *instance {
	ins := a.instances
	if len(ins) == 1 {
		return ins[0]
	}
	if a.spec.Balance == RoundRobin {
		return ins[a.rr.Add(1)%uint64(len(ins))]
	}
	best, bestLoad := ins[0], ins[0].load()
	for _, in := range ins[1:] {
		if l := in.load(); l < bestLoad {
			best, bestLoad = in, l
		}
	}
	return best
}

// load is an instance's queued messages plus those it is handling.
func (in *instance) load() int { return in.mb.Load() }

// closeHandler releases a NewHandler instance's handler if it is an
// io.Closer; shared handlers belong to the host and are left alone.
func (in *instance) closeHandler() {
	in.alive.Store(false)
	in.wasm.Store(nil)
	if in.a.spec.NewHandler == nil || in.handler == nil {
		return
	}
	if c, ok := in.handler.(io.Closer); ok {
		if err := c.Close(); err != nil {
			in.logger.Warn("closing instance", "error", err)
		}
	}
	in.handler = nil
}
