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
	"github.com/caxton-go/caxton/internal/mailbox"
	"github.com/caxton-go/caxton/store"
)

// State is an agent's lifecycle state.
type State uint8

// Lifecycle states.
const (
	StateRunning State = iota + 1 // workers are handling messages
	StateStopped                  // stopped by the host; messages queue up
	StateFailed                   // exceeded its restart policy
)

func (s State) String() string {
	switch s {
	case StateRunning:
		return "running"
	case StateStopped:
		return "stopped"
	case StateFailed:
		return "failed"
	}
	return "unknown"
}

// AgentInfo is a snapshot of an agent for inspection.
type AgentInfo struct {
	Name         acl.AgentID
	State        State
	Replicas     int
	QueueDepth   int      // queued messages over all replicas
	InFlight     int      // messages taken by workers and not yet finished
	Processed    uint64   // messages handled successfully
	Failed       uint64   // failed attempts (errors and panics)
	Retried      uint64   // attempts that were retried
	DeadLettered uint64   // messages sent to the dead-letter queue
	Restarts     uint64   // instances replaced
	LastError    string   // the most recent handler error
	Topics       []string // current subscriptions
	Capabilities []string // advertised capabilities (AgentSpec.Capabilities)
	Version      string   // the label of the code the agent runs
	Previous     string   // the version before the last upgrade, which Rollback returns to
	Rollout      *Rollout // the upgrade in progress, if any
	Breaker      BreakerState
	QuotaHits    uint64 // sends refused by the agent's Quota
	// CPUTime is the CPU time the agent's handler calls used, over all
	// replicas, when AgentSpec.MeasureCPU is set (zero otherwise).
	CPUTime time.Duration
	// Hibernated is how many of the agent's wasm instances are
	// hibernated (WasmSpec.Hibernate).
	Hibernated int
}

// agent is a registered agent: its spec, its instances and their mailboxes
// (which outlive Stop/Start, so messages wait while it is stopped), and its
// counters.
type agent struct {
	rt           *Runtime
	spec         AgentSpec
	internal     bool // a host subscription, not listed by Agents
	mu           sync.Mutex
	st           atomic.Uint32               // State
	insts        atomic.Pointer[[]*instance] // copy-on-write: read on every delivery, changed by Scale under mu
	ver          atomic.Pointer[version]     // the current version of the agent's code
	prev         atomic.Pointer[version]     // the version before the last upgrade, for Rollback
	ro           atomic.Pointer[rollout]     // the upgrade in progress
	brk          *breaker                    // nil without a BreakerPolicy
	timed        bool                        // measure handling time (autoscale on latency)
	quit         context.CancelFunc          // ends the autoscaler and the reloader
	quota        *limiter                    // nil without send quotas
	quotaAudited atomic.Int64                // unix nanos of the last quota audit record
	rr           atomic.Uint64
	lastErr      atomic.Pointer[string]
	rmu          sync.Mutex // guards restartAt; never held while waiting
	restartAt    []int64    // unix nanos of recent replacements, for the window
	// stats is last: the worker writes it for every message, and on a
	// cache line of its own (the struct's tail; the allocator's 640-byte
	// slots start on a line) it does not take from senders the line they
	// read the agent's state, instances and breaker from.
	stats agentStats
}

type agentStats struct {
	processed, failed, retried, deadLettered, restarts atomic.Uint64
	busyNanos, timed                                   atomic.Uint64 // handling time, when measured (autoscale on latency)
	quotaHits                                          atomic.Uint64
	cpuNanos                                           atomic.Int64 // handler CPU time (AgentSpec.MeasureCPU)
}

func (a *agent) name() acl.AgentID { return a.spec.Name }

// emit reports a lifecycle event of the agent (not of a host subscription,
// which is not an agent to the host).
func (a *agent) emit(kind EventKind, replica int, detail string) {
	if a.internal {
		return
	}
	a.rt.emit(Event{Kind: kind, Agent: a.name(), Replica: replica, Version: a.version().label, Detail: truncateNotice(detail)})
}

// all returns the agent's instances (a snapshot: do not modify).
func (a *agent) all() []*instance { return *a.insts.Load() }

// version returns the agent's current version.
func (a *agent) version() *version { return a.ver.Load() }

func (a *agent) state() State { return State(a.st.Load()) }

func (a *agent) info() AgentInfo {
	inf := AgentInfo{
		Name:         a.name(),
		State:        a.state(),
		Replicas:     len(a.all()),
		Processed:    a.stats.processed.Load(),
		Failed:       a.stats.failed.Load(),
		Retried:      a.stats.retried.Load(),
		DeadLettered: a.stats.deadLettered.Load(),
		Restarts:     a.stats.restarts.Load(),
		Topics:       a.rt.bus.topicsOf(a),
		Capabilities: slices.Clone(a.spec.Capabilities),
		Version:      a.version().label,
		Breaker:      a.brk.state(),
		QuotaHits:    a.stats.quotaHits.Load(),
		CPUTime:      time.Duration(a.stats.cpuNanos.Load()),
	}
	if ro := a.ro.Load(); ro != nil {
		inf.Rollout = ro.progress()
	}
	if p := a.prev.Load(); p != nil {
		inf.Previous = p.label
	}
	for _, in := range a.all() {
		d := in.mb.Depth()
		inf.QueueDepth += d
		inf.InFlight += in.mb.Load() - d
		if w := in.wasm.Load(); w != nil && w.Hibernated() {
			inf.Hibernated++
		}
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
	for _, in := range a.all() {
		in.closeHandler()
		if in.lazy = a.spec.Lazy; in.lazy {
			continue
		}
		if err := in.makeHandler(ctx); err != nil {
			for _, made := range a.all() {
				made.closeHandler()
			}
			return err
		}
	}
	a.rmu.Lock()
	a.restartAt = a.restartAt[:0]
	a.rmu.Unlock()
	for _, in := range a.all() {
		in.runCtx, in.runCancel = context.WithCancel(a.rt.shutdown.base)
	}
	a.st.Store(uint32(StateRunning))
	for _, in := range a.all() {
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
	if ro := a.ro.Load(); ro != nil {
		ro.giveUp("the agent was stopped")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, in := range a.all() {
		in.mb.Pause()
	}
	// The agent counts as stopped from here on, even if a handler is still
	// finishing: its mailbox is paused, and start waits for the worker.
	a.st.Store(uint32(st))
	err := a.awaitWorkers(ctx)
	for _, in := range a.all() {
		if in.runCancel != nil {
			in.runCancel() // a handler still running sees its context end
		}
	}
	if err != nil {
		return fmt.Errorf("caxton: stop %q: a handler is still running: %w", a.name(), err)
	}
	for _, in := range a.all() {
		in.closeHandler()
	}
	return nil
}

// awaitWorkers waits until no worker of the agent runs.
func (a *agent) awaitWorkers(ctx context.Context) error {
	for _, in := range a.all() {
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
	for _, in := range a.all() {
		in.mb.Pause()
	}
}

// closeMailboxes closes every mailbox and dead-letters what was queued.
//
// With keep (a durable store at runtime close) nothing is dead-lettered:
// the messages stay on disk and are delivered after a restart.
func (a *agent) closeMailboxes(reason string, keep bool) int {
	n := 0
	for _, in := range a.all() {
		rest := in.mb.Close()
		if keep {
			continue
		}
		for _, e := range rest {
			if e.OnReturn != nil { // from another node: its transport takes it back
				e.OnReturn()
				e.OnAck = nil
				continue
			}
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
	for _, in := range a.all() {
		if in != nil {
			_ = in.queue.Close()
		}
	}
}

// deliver queues m for one of the agent's instances.
func (a *agent) deliver(ctx context.Context, m *acl.Message, abort <-chan struct{}, mayBlock bool) error {
	if a.state() == StateFailed && !a.rt.isDurable() { // durable: it waits for a Start
		return ErrAgentFailed
	}
	return a.push(ctx, store.Envelope{Msg: m, Receiver: a.name(), Enqueued: m.CreatedAt}, abort, mayBlock)
}

// push queues e for one of the agent's instances (a local send, or a
// message from another node: cluster.go).
func (a *agent) push(ctx context.Context, e store.Envelope, abort <-chan struct{}, mayBlock bool) error {
	if a.brk != nil {
		if err := a.brk.allow(); err != nil {
			return err
		}
	}
	var err error
	for {
		in := a.pick()
		err = in.mb.Push(ctx, e, mayBlock && a.spec.Overflow == OverflowBlock, abort)
		if !errors.Is(err, mailbox.ErrClosed) || !a.retired(in) {
			break
		}
		// Scale retired the instance after we picked it: pick again.
	}
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
	return in.mb.PushForce(store.Envelope{Msg: m, Receiver: a.name(), Enqueued: m.CreatedAt})
}

// retired reports whether Scale took in out of the agent while the agent
// lives on (its other instances take the message).
func (a *agent) retired(in *instance) bool {
	if a.rt.shutdown.isClosed() {
		return false
	}
	if ep, ok := a.rt.lookup(a.name()); !ok || ep != endpoint(a) {
		return false // removed
	}
	return !slices.Contains(a.all(), in)
}

func (a *agent) pick() *instance {
	ins := a.all()
	if len(ins) == 1 {
		return ins[0]
	}
	if a.spec.Balance == BalanceRoundRobin {
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
