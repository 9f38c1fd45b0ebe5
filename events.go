package caxton

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// EventKind is what happened to an agent.
type EventKind uint8

// The lifecycle events a runtime reports (Watch, WithEventHook).
const (
	EventSpawned           EventKind = iota + 1 // the agent was spawned
	EventStarted                                // a stopped or failed agent was started again
	EventStopped                                // the agent was stopped by the host
	EventFailed                                 // the restart policy gave up: the agent is failed
	EventRestarted                              // an instance was replaced (after a panic, a broken instance, a hung handler)
	EventRemoved                                // the agent was removed
	EventScaled                                 // the number of instances changed
	EventUpgradeStarted                         // an upgrade began: the new version's instances passed their checks
	EventUpgradeStep                            // an upgrade moved on: a canary step, or the next replicas of a rolling upgrade
	EventUpgradePromoted                        // the new version took over for good
	EventUpgradeRolledBack                      // the upgrade was rolled back (Detail: why)
	EventHung                                   // a handler overran its DeliveryPolicy.Timeout
	EventUnhealthy                              // the agent's health probe failed (Detail: why)
	EventHealthy                                // the agent's health probe passed again
	EventCircuitOpen                            // the agent's circuit breaker opened: new messages are refused
	EventCircuitHalfOpen                        // the breaker lets a trial message through
	EventCircuitClosed                          // the breaker closed again
	EventHibernated                             // an idle wasm instance's state was saved and its store freed (WasmSpec.Hibernate)
	EventWoke                                   // a hibernated instance was restored for its next message
)

var eventNames = [...]string{
	EventSpawned: "spawned", EventStarted: "started", EventStopped: "stopped", EventFailed: "failed",
	EventRestarted: "restarted", EventRemoved: "removed", EventScaled: "scaled",
	EventUpgradeStarted: "upgrade started", EventUpgradeStep: "upgrade step",
	EventUpgradePromoted: "upgrade promoted", EventUpgradeRolledBack: "upgrade rolled back",
	EventHung: "hung", EventUnhealthy: "unhealthy", EventHealthy: "healthy",
	EventCircuitOpen: "circuit open", EventCircuitHalfOpen: "circuit half-open", EventCircuitClosed: "circuit closed",
	EventHibernated: "hibernated", EventWoke: "woke",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one lifecycle event of an agent.
type Event struct {
	Seq     uint64      // increasing per runtime: the order events happened in
	Kind    EventKind   //
	Agent   acl.AgentID //
	At      time.Time   // by the runtime's clock
	Replica int         // the instance, for per-instance events (Restarted, Hung); -1 otherwise
	Version string      // the version the agent ran when the event happened
	Detail  string      // what and why: "3 → 1 instances", "v1 → v2, canary", the cause of a failure, the reason of a rollback
	// Missed counts the events this watcher did not receive just before this
	// one because its channel was full: watchers never hold the runtime up.
	Missed uint64
}

func (e Event) String() string {
	s := fmt.Sprintf("%s %s", e.Agent, e.Kind)
	if e.Replica >= 0 {
		s += fmt.Sprintf(" (replica %d)", e.Replica)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// events fans lifecycle events out to the hook and the watchers.
type events struct {
	seq      atomic.Uint64
	hook     func(Event)
	mu       sync.Mutex
	watchers atomic.Pointer[[]*watcher] // copy-on-write: read on every event
}

type watcher struct {
	mu     sync.Mutex // held while sending, so close never races a send
	ch     chan Event
	missed uint64
	closed bool
}

// send hands e to the watcher if it has room, else counts it missed.
func (w *watcher) send(e Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	e.Missed = w.missed
	select {
	case w.ch <- e:
		w.missed = 0
	default:
		w.missed++
	}
}

func (w *watcher) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
}

func (ev *events) init(hook func(Event)) {
	ev.hook = hook
	ev.watchers.Store(&[]*watcher{})
}

// emit stamps e and hands it to the hook and every watcher without
// blocking: a full watcher misses it (and is told so with its next event).
func (rt *Runtime) emit(e Event) {
	ev := &rt.events
	e.Seq = ev.seq.Add(1)
	e.At = rt.clock.Now()
	if ev.hook != nil {
		rt.callHook("event hook", func() { ev.hook(e) })
	}
	for _, w := range *ev.watchers.Load() {
		w.send(e)
	}
}

// Watch returns a channel of the runtime's lifecycle events from now on,
// buffered to hold buffer of them (at least 1). A watcher that falls behind
// misses events rather than holding the runtime up; the next event it does
// get says how many it missed (Event.Missed). The channel is closed when ctx
// ends or the runtime closes. After Close, Watch returns a closed channel.
func (rt *Runtime) Watch(ctx context.Context, buffer int) <-chan Event {
	w := &watcher{ch: make(chan Event, max(buffer, 1))}
	if ctx == nil || rt.shutdown.enter() != nil {
		w.close()
		return w.ch
	}
	defer rt.shutdown.exit()
	ev := &rt.events
	ev.mu.Lock()
	next := append(slices.Clone(*ev.watchers.Load()), w)
	ev.watchers.Store(&next)
	ev.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-rt.shutdown.closing:
		}
		ev.mu.Lock()
		next := slices.DeleteFunc(slices.Clone(*ev.watchers.Load()), func(x *watcher) bool { return x == w })
		ev.watchers.Store(&next)
		ev.mu.Unlock()
		w.close()
	}()
	return w.ch
}

// WithEventHook calls fn with every lifecycle event, on the goroutine where
// it happened (a worker, a host call, a timer): fn must be quick and must not
// block or call back into the runtime. Watch is the buffered alternative.
func WithEventHook(fn func(Event)) Option {
	return func(cfg *config) error {
		if fn == nil {
			return specErr("WithEventHook", "nil function")
		}
		cfg.onEvent = fn
		return nil
	}
}

// callHook runs a host hook, logging (not propagating) a panic: a hook must
// not take a worker down.
func (rt *Runtime) callHook(what string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			rt.logger.Error(what+" panicked", "panic", r)
		}
	}()
	fn()
}
