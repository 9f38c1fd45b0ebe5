package caxton

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/caxton-go/caxton/tool"
)

// WithSandboxCacheDir keeps compiled WebAssembly modules in dir, so a guest
// is compiled once per machine instead of once per process.
func WithSandboxCacheDir(dir string) Option {
	return func(cfg *config) error {
		if dir == "" {
			return specErr("WithSandboxCacheDir", "empty directory")
		}
		cfg.sandboxOpts = append(cfg.sandboxOpts, sandbox.WithCacheDir(dir))
		return nil
	}
}

// WithWasmInstancePool has the runtime's wasm agents start in the slots of
// a pool reserved once (sandbox.WithInstancePool) rather than in freshly
// mapped memory: a wasm agent's start, its first message and a hibernated
// agent's wake then reuse resident pages. p.Instances bounds the live wasm
// instances of the runtime; with WasmSpec.Hibernate, a start that finds the
// pool full first hibernates the agents idle longest to make room.
func WithWasmInstancePool(p sandbox.Pool) Option {
	return func(cfg *config) error {
		cfg.sandboxOpts = append(cfg.sandboxOpts, sandbox.WithInstancePool(p))
		return nil
	}
}

// sandboxEngine returns the runtime's engine, creating it on first use so
// runtimes without wasm agents pay nothing for it.
func (rt *Runtime) sandboxEngine() (*sandbox.Engine, error) {
	rt.sbMu.Lock()
	defer rt.sbMu.Unlock()
	if rt.sb != nil {
		return rt.sb, nil
	}
	opts := append([]sandbox.EngineOption{sandbox.WithLogger(rt.logger)}, rt.cfg.sandboxOpts...)
	e, err := sandbox.NewEngine(opts...)
	if err != nil {
		return nil, err
	}
	rt.sb = e
	return e, nil
}

func (rt *Runtime) closeSandbox() error {
	rt.sbMu.Lock()
	defer rt.sbMu.Unlock()
	if rt.sb == nil {
		return nil
	}
	return rt.sb.Close()
}

// wasmFactory compiles the spec's module (once, through the engine's cache)
// and returns the NewHandler that instantiates it. ctx bounds the wait for
// the compilation (see sandbox.Engine.Compile: a compilation cut short goes
// on in the background and fills the cache).
func (rt *Runtime) wasmFactory(ctx context.Context, name acl.AgentID, w *WasmSpec, grant tool.Grant) (func(context.Context, InstanceInfo) (Handler, error), error) {
	src, err := w.source(rt.cfg.engines)
	if err != nil {
		return nil, err
	}
	if w.Reload < 0 || (w.Reload > 0 && w.File == "") {
		return nil, specErr("Wasm.Reload", "%v: needs a File and a positive interval", w.Reload)
	}
	limits, err := w.Limits.WithDefaults()
	if err != nil {
		return nil, specErr("Wasm.Limits", "%v", err)
	}
	quotas, err := newDirQuotas(w.Grants.Dirs)
	if err != nil {
		return nil, err
	}
	eng, err := rt.sandboxEngine()
	if err != nil {
		return nil, forAgent(name, err) // sandbox.ErrNoCgo in a build without cgo
	}
	var mod *sandbox.Module
	if src.text {
		mod, err = eng.CompileText(ctx, string(src.code))
	} else {
		mod, err = eng.Compile(ctx, src.code)
	}
	if err != nil {
		return nil, forAgent(name, err)
	}
	grants := w.Grants
	tools := func(ctx context.Context, toolName string, args []byte) (tool.Status, []byte) {
		r := rt.callTool(ctx, name, grant, toolName, args)
		return r.Status, r.Content
	}
	sleep := &sleepSpec{idle: w.Hibernate, mod: mod, cfg: sandbox.InstanceConfig{
		Agent: name, Limits: limits, Grants: grants, Logger: rt.logger, Now: rt.clock.Now, Tools: tools,
		Init: src.init, Snapshots: w.Hibernate > 0,
	}}
	if w.Preinit {
		if sleep.mod, err = preinit(ctx, eng, src, sleep.cfg); err != nil {
			return nil, err
		}
	}
	if err := checkHibernate(w, sleep.mod); err != nil {
		return nil, err
	}
	return func(ctx context.Context, info InstanceInfo) (Handler, error) {
		inst, err := startRoomy(rt, func() (*sandbox.Instance, error) { return sleep.mod.Instantiate(ctx, sleep.cfg) })
		if err != nil {
			return nil, err
		}
		h := &wasmHandler{inst: inst, rt: rt, name: name, quotas: quotas}
		h.memBytes.Store(inst.MemoryBytes())
		if sleep.idle > 0 {
			h.hibernation = &hibernation{sleepSpec: sleep, info: info, last: rt.clock.Now()}
			rt.hibernateLater(h)
		}
		return h, nil
	}, nil
}

// preinit bakes the agent's start-up into a module of its own
// (WasmSpec.Preinit); a module that cannot be baked is a SpecError naming
// the field, and the start-up's own failure is the agent's.
func preinit(ctx context.Context, eng *sandbox.Engine, src wasmSource, cfg sandbox.InstanceConfig) (*sandbox.Module, error) {
	code := src.code
	if src.text {
		var err error
		if code, err = sandbox.Wat2Wasm(string(src.code)); err != nil {
			return nil, forAgent(cfg.Agent, err)
		}
	}
	mod, err := eng.Preinitialize(ctx, code, cfg)
	if errors.Is(err, sandbox.ErrNoPreinit) {
		return nil, &SpecError{Field: "Wasm.Preinit", Reason: err.Error(), Err: err}
	}
	if err != nil {
		return nil, forAgent(cfg.Agent, err)
	}
	return mod, nil
}

// forAgent names the agent in an error from compiling its module. The
// sandbox compiles by content, for no agent in particular, so its errors
// leave Agent empty; the agent is known here.
//
// A type assertion, not errors.As, on purpose: only an error that is itself
// a *sandbox.Error is copied with the name; one wrapped further (a context's
// end during the compilation) keeps its wrapping and is named by %w below.
func forAgent(name acl.AgentID, err error) error {
	if se, ok := err.(*sandbox.Error); ok && se.Agent == "" {
		named := *se
		named.Agent = name
		return &named
	}
	return fmt.Errorf("caxton: agent %q: %w", name, err)
}

// wasmHandler adapts a sandbox instance to the BatchHandler seam.
type wasmHandler struct {
	inst   *sandbox.Instance // nil while hibernated or after Close
	rt     *Runtime
	name   acl.AgentID
	quotas *dirQuotas // nil without byte quotas on granted directories
	// *hibernation is set with WasmSpec.Hibernate: its mutex then guards
	// inst between the worker and the runtime's sweeper.
	*hibernation
	fuel     uint64       // the last batch's fuel (the worker's)
	memBytes atomic.Int64 // the instance's memory, or the snapshot's while hibernated (metrics)
	closed   bool
}

// HandleMessage is HandleBatch of one message; the runtime uses HandleBatch.
func (h *wasmHandler) HandleMessage(ctx context.Context, mc *MessageContext) error {
	b := &Batch{Messages: []*acl.Message{mc.Message()}, Attempt: mc.Attempt()}
	if err := h.HandleBatch(ctx, b); err != nil {
		return err
	}
	var errs []error
	for _, m := range b.outbox {
		errs = append(errs, mc.Send(ctx, m))
	}
	return errors.Join(errs...)
}

// HandleBatch runs the batch through the guest in one call. Messages over
// the inbound size limit are rejected (dead-lettered) rather than failing
// the batch. Traps and ABI violations wrap ErrInstanceBroken so the runtime
// replaces the instance; a guest's own "permanent" status dead-letters the
// batch at once.
func (h *wasmHandler) HandleBatch(ctx context.Context, b *Batch) error {
	if h.hibernation != nil {
		h.mu.Lock()
		defer func() {
			h.last = h.rt.clock.Now()
			h.mu.Unlock()
		}()
		if h.closed {
			return errHandlerClosed
		}
		if h.inst == nil {
			if err := h.wake(ctx); err != nil {
				return err
			}
		}
	}
	msgs := b.Messages
	for i, m := range b.Messages {
		if err := h.inst.Accepts(m); err != nil {
			b.Reject(i, err)
		}
	}
	if len(b.rejected) > 0 {
		msgs = make([]*acl.Message, 0, len(b.Messages)-len(b.rejected))
		for i, m := range b.Messages {
			if _, bad := b.rejected[i]; !bad {
				msgs = append(msgs, m)
			}
		}
		if len(msgs) == 0 {
			return nil
		}
	}
	if de := h.quotas.before(); de != nil {
		return Permanent(h.quotaHit(de))
	}
	out, err := h.inst.Handle(ctx, msgs)
	h.fuel = h.inst.FuelUsed()
	h.memBytes.Store(h.inst.MemoryBytes())
	if de := h.quotas.after(); de != nil {
		h.quotaHit(de) // this batch went ahead; the next is refused
	}
	if err != nil {
		var se *sandbox.Error
		switch {
		case !errors.As(err, &se):
			return err
		case se.Kind == sandbox.KindGuestPermanent:
			return Permanent(err)
		case se.Broken():
			return fmt.Errorf("%w: %w", ErrInstanceBroken, err)
		}
		return err
	}
	for _, m := range out {
		b.Emit(m)
	}
	return nil
}

// FuelUsed reports the fuel the last batch consumed (for telemetry).
func (h *wasmHandler) FuelUsed() uint64 { return h.fuel }

// MemoryBytes is the guest's linear memory after its last batch, or what
// its saved state holds while it is hibernated (for metrics; safe from any
// goroutine).
func (h *wasmHandler) MemoryBytes() int64 { return h.memBytes.Load() }

// Hibernated reports whether the instance's state is saved and its store
// closed (WasmSpec.Hibernate). It does not wait for a batch: Agent and
// Agents call it, and a tool the guest calls may ask for them.
func (h *wasmHandler) Hibernated() bool {
	return h.hibernation != nil && h.asleep.Load()
}

// Close releases the instance's store (or its saved state).
func (h *wasmHandler) Close() error {
	if h.hibernation == nil {
		return h.inst.Close()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed, h.snap = true, nil
	h.asleep.Store(false)
	h.rt.hib.forget(h) // after closed is set: a wake cannot add it back
	if h.inst == nil {
		return nil
	}
	inst := h.inst
	h.inst = nil
	return inst.Close()
}

// errHandlerClosed is a batch given to a closed handler.
var errHandlerClosed = errors.New("caxton: wasm handler is closed")
