package caxton

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton/sandbox"
)

// Hibernation (WasmSpec.Hibernate) passivates idle wasm instances: after the
// agent's idle time without a batch, the instance's state is saved (a
// sandbox.Snapshot: the memory blocks that differ from the module's image
// after start-up, and its mutable globals) and its store closed; the next
// batch restores it into a new store first. One sweeper per runtime finds
// the idle instances: a goroutine or a timer per agent would cost more
// than a hibernated agent's state.
type hibernator struct {
	mu   sync.Mutex
	live map[*wasmHandler]struct{} // awake handlers that may hibernate
	tick time.Duration             // the sweeper's period: the shortest idle time / 4
	wake chan struct{}             // capacity 1: the period shrank
	run  bool                      // the sweeper is running
}

// minSweep bounds the sweeper's period from below.
const minSweep = time.Millisecond

// hibernateLater makes h a candidate for hibernation, starting the
// sweeper with the first one.
func (rt *Runtime) hibernateLater(h *wasmHandler) {
	hb := &rt.hib
	hb.mu.Lock()
	defer hb.mu.Unlock()
	if hb.live == nil {
		hb.live = map[*wasmHandler]struct{}{}
		hb.wake = make(chan struct{}, 1)
	}
	hb.live[h] = struct{}{}
	if every := max(h.idle/4, minSweep); hb.tick == 0 || every < hb.tick {
		hb.tick = every
		if hb.run {
			signal(hb.wake) // a running sweeper takes the shorter period
		}
	}
	if !hb.run {
		hb.run = true
		go rt.sweep(rt.shutdown.base)
	}
}

// forget removes h from the candidates (it hibernated, or closed).
func (hb *hibernator) forget(h *wasmHandler) {
	hb.mu.Lock()
	delete(hb.live, h)
	hb.mu.Unlock()
}

// sweep hibernates idle instances every period on the runtime's clock
// until ctx (the runtime's base context) ends.
func (rt *Runtime) sweep(ctx context.Context) {
	hb := &rt.hib
	var batch []*wasmHandler
	for {
		hb.mu.Lock()
		tick := hb.tick
		hb.mu.Unlock()
		t := rt.clock.NewTimer(tick)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-hb.wake:
			if t.Stop() {
				continue // start over with the shorter period
			}
			// The timer fired as well: sweep now.
		case <-t.C():
		}
		now := rt.clock.Now()
		hb.mu.Lock()
		batch = batch[:0]
		for h := range hb.live {
			batch = append(batch, h)
		}
		hb.mu.Unlock()
		for _, h := range batch {
			h.hibernateIfIdle(now)
		}
		clear(batch)
	}
}

// hibernation is the state of a wasm handler with WasmSpec.Hibernate. It
// is kept small: a million hibernated agents hold a million of them.
type hibernation struct {
	*sleepSpec
	mu     sync.Mutex        // held by a batch, a hibernation and Close
	snap   *sandbox.Snapshot // while hibernated (inst is nil)
	asleep atomic.Bool       // snap is set: readable without mu (AgentInfo)
	last   time.Time         // the end of the last batch, on the runtime's clock
	info   InstanceInfo
}

// sleepSpec is what the instances of one wasm agent share: how they start
// and, with WasmSpec.Hibernate, after how long idle they sleep (0: never).
type sleepSpec struct {
	idle time.Duration
	mod  *sandbox.Module
	cfg  sandbox.InstanceConfig
}

// hibernateIfIdle saves and closes the instance if it has been idle for
// the agent's idle time. A handler busy with a batch is left alone.
func (h *wasmHandler) hibernateIfIdle(now time.Time) bool {
	if !h.mu.TryLock() {
		return false
	}
	defer h.mu.Unlock()
	if h.inst == nil || now.Sub(h.last) < h.idle {
		return false
	}
	return h.hibernateLocked()
}

// hibernateLocked saves and closes the instance; h.mu is held and the
// instance is live. It reports whether the instance went to sleep.
func (h *wasmHandler) hibernateLocked() bool {
	snap, err := h.inst.Snapshot()
	if err != nil {
		// The module could be snapshotted (Spawn checked), so this
		// instance did something a snapshot cannot keep (it grew a
		// table): it stays awake for good.
		h.rt.hib.forget(h)
		h.rt.logger.Warn("wasm agent cannot hibernate; its instance stays awake", "agent", h.name, "replica", h.info.Replica, "error", err)
		return false
	}
	if err := h.inst.Close(); err != nil {
		h.rt.logger.Warn("closing a hibernated instance", "agent", h.name, "error", err)
	}
	h.inst, h.snap = nil, snap
	h.asleep.Store(true)
	h.memBytes.Store(int64(snap.Bytes()))
	h.rt.hib.forget(h)
	h.rt.emit(Event{Kind: EventHibernated, Agent: h.name, Replica: h.info.Replica, Version: h.info.Version,
		Detail: fmt.Sprintf("state saved in %d bytes", snap.Bytes())})
	return true
}

// noRoom reports whether err is a start refused for want of room: the
// process's limit of live instances, or a full instance pool.
func noRoom(err error) bool {
	return errors.Is(err, sandbox.ErrTooManyInstances) || errors.Is(err, sandbox.ErrPoolFull)
}

// makeRoom hibernates the instances that have been idle longest, before
// their idle time is up, when a start found no room: a sixteenth of the
// awake ones that are not busy, at least one. It reports how many went to
// sleep. Only agents with WasmSpec.Hibernate are candidates.
func (rt *Runtime) makeRoom() int {
	hb := &rt.hib
	type idle struct {
		h    *wasmHandler
		last time.Time
	}
	hb.mu.Lock()
	cands := make([]idle, 0, len(hb.live))
	for h := range hb.live {
		cands = append(cands, idle{h: h})
	}
	hb.mu.Unlock()
	n := 0
	for _, c := range cands {
		if c.h.mu.TryLock() { // a busy one is not idle
			if c.h.inst != nil {
				cands[n] = idle{h: c.h, last: c.h.last}
				n++
			}
			c.h.mu.Unlock()
		}
	}
	cands = cands[:n]
	slices.SortFunc(cands, func(a, b idle) int { return a.last.Compare(b.last) })
	slept := 0
	for _, c := range cands[:min(len(cands), max(1, len(cands)/16))] {
		if c.h.mu.TryLock() {
			if c.h.inst != nil && c.h.hibernateLocked() {
				slept++
			}
			c.h.mu.Unlock()
		}
	}
	return slept
}

// startRoomy runs start, and once more after making room if it found none.
func startRoomy[T any](rt *Runtime, start func() (T, error)) (T, error) {
	v, err := start()
	if noRoom(err) && rt.makeRoom() > 0 {
		v, err = start()
	}
	return v, err
}

// wake restores a hibernated instance before a batch. A snapshot that
// cannot be restored is a broken instance: the runtime replaces it with a
// fresh one, and the saved state is lost (logged at error level).
func (h *wasmHandler) wake(ctx context.Context) error {
	start := time.Now()
	inst, err := startRoomy(h.rt, func() (*sandbox.Instance, error) { return h.mod.Restore(ctx, h.cfg, h.snap) })
	if err != nil {
		if ctx.Err() != nil || noRoom(err) {
			return err // the state is kept: the next attempt tries again
		}
		h.rt.logger.Error("wasm agent's hibernated state cannot be restored and is lost; a fresh instance replaces it",
			"agent", h.name, "replica", h.info.Replica, "error", err)
		h.snap = nil
		h.asleep.Store(false)
		return fmt.Errorf("%w: restoring from hibernation: %w", ErrInstanceBroken, err)
	}
	h.inst, h.snap = inst, nil
	h.asleep.Store(false)
	h.rt.hibernateLater(h)
	h.rt.emit(Event{Kind: EventWoke, Agent: h.name, Replica: h.info.Replica, Version: h.info.Version,
		Detail: fmt.Sprintf("restored in %v", time.Since(start).Round(time.Microsecond))})
	return nil
}

// checkHibernate validates WasmSpec.Hibernate against the compiled module.
func checkHibernate(w *WasmSpec, mod *sandbox.Module) error {
	switch {
	case w.Hibernate < 0:
		return specErr("Wasm.Hibernate", "%v is negative", w.Hibernate)
	case w.Hibernate == 0:
		return nil
	}
	if err := mod.Snapshottable(); err != nil {
		return &SpecError{Field: "Wasm.Hibernate", Reason: err.Error(), Err: err}
	}
	return nil
}
