//go:build cgo

package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
)

// InstanceConfig describes one agent instance.
type InstanceConfig struct {
	Agent  acl.AgentID      // the agent's name: logs, errors
	Limits Limits           // zero fields take defaults
	Grants Grants           // WASI capabilities; none by default
	Logger *slog.Logger     // receives guest logs and captured stdout/stderr (default: discard)
	Now    func() time.Time // the clock behind the caxton.now import (default time.Now)
	Tools  ToolFunc         // behind the caxton.tool_call import (nil: every call is "unavailable")
	// Init is handed to the guest's caxton_init export once, at start-up
	// (sandbox/ABI.md, "Init data"): the script of an interpreter guest.
	// A module that exports caxton_init always gets the call (with no
	// bytes when Init is empty); Init for a module without the export is
	// an ABI violation rather than data silently ignored.
	Init []byte
	// Snapshots keeps what Instance.Snapshot needs: the handles of the
	// module's mutable globals and, once per module and init data, its
	// memory image after start-up (a copy of the guest's memory, kept for
	// the engine's life). Restored instances always have it.
	Snapshots bool
}

// Instance is one running guest in its own store. It is not safe for
// concurrent use: the runtime gives each instance one worker.
type Instance struct {
	cfg    InstanceConfig
	m      *Module
	store  *wasmtime.Store
	mem    *wasmtime.Memory
	alloc  *wasmtime.Func
	handle *wasmtime.Func
	tables []*wasmtime.Table // every table, for classify (see exportHidden)
	// For snapshots (InstanceConfig.Snapshots, or restored): the mutable
	// globals, the tables' sizes after start-up, the module's memory image
	// for the init data, and its key.
	globals    []*wasmtime.Global
	tableSizes []uint64
	base       *baseImage
	baseKey    contentKey
	bufPtr     uint32 // inbound buffer from caxton_alloc
	bufCap     uint32
	batch      []byte     // encoding scratch
	stdio      []captured // read side of captured stdout and stderr
	fuel       uint64     // fuel used by the last call
	oom        bool       // the guest printed an out-of-memory message
	closed     bool
	// ctx is the current call's context, so guest logs carry its trace.
	ctx context.Context
	// callStart and hostTime time the current call, so host calls (tools)
	// do not eat the guest's deadline.
	callStart time.Time
	hostTime  time.Duration
	// memBytes is the linear memory size after the last call, readable
	// from any goroutine (metrics) while the worker runs the guest.
	memBytes atomic.Int64
	// closeMu makes Close safe to call from several goroutines (a runtime
	// may race a Stop against its own Close).
	closeMu sync.Mutex
}

// Instantiate creates a fresh instance of m: a new store with the limits
// and grants of cfg, WASI linked but empty unless granted, the caxton host
// imports, the start-up run (the module's start function, then
// _initialize), and the ABI version checked (on the module's first
// successful instance: it is a property of the code).
//
// Start-up is guest code, so it is bounded like a batch: by the batch
// deadline, or by ctx's deadline if that comes first, in which case the
// error is a KindDeadline *Error that also wraps ctx's error. A ctx that is
// cancelled without a deadline cannot interrupt the guest (wasmtime can
// only stop a store at its epoch deadline); Instantiate then fails with
// ctx's error as soon as start-up ends, within the batch deadline.
func (m *Module) Instantiate(ctx context.Context, cfg InstanceConfig) (*Instance, error) {
	return m.instantiate(ctx, cfg, nil)
}

// instantiate starts an instance: a fresh one, or one restored from snap
// (Restore).
func (m *Module) instantiate(ctx context.Context, cfg InstanceConfig, snap *Snapshot) (inst *Instance, err error) {
	if ctx == nil {
		return nil, errors.New("sandbox: Instantiate: nil context.Context")
	}
	if cfg.Limits, err = cfg.Limits.WithDefaults(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sandbox: agent %q: not started: %w", cfg.Agent, err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = cfg.Logger.With("agent", string(cfg.Agent))
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if p := m.e.pool; p != nil && cfg.Limits.MaxMemory > p.MaxMemory {
		return nil, fmt.Errorf("sandbox: agent %q: Limits.MaxMemory %d is above the instance pool's MaxMemory %d", cfg.Agent, cfg.Limits.MaxMemory, p.MaxMemory)
	}
	if !m.e.enter() { // a module (or a snapshot of one) can outlive its engine
		return nil, fmt.Errorf("sandbox: agent %q: %w", cfg.Agent, ErrClosed)
	}
	if !takeStore() {
		m.e.leave()
		live, limit := LiveInstances()
		return nil, fmt.Errorf("%w: agent %q not started: %d are live, the most this process's memory-map limit "+
			"(vm.max_map_count) allows safely is %d; hibernate idle agents (caxton.WasmSpec.Hibernate) or stop some",
			ErrTooManyInstances, cfg.Agent, live, limit)
	}
	in := &Instance{cfg: cfg, m: m, ctx: ctx}
	in.store = wasmtime.NewStoreWithData(m.e.eng, in)
	started := false
	defer func() {
		in.ctx = context.Background() // the instance outlives the caller's ctx
		// An error, or a panic on its way up: the store (and its count,
		// its pool slot) is released.
		if !started {
			in.Close()
		}
	}()
	in.store.Limiter(cfg.Limits.MaxMemory, maxTableElements, 1, maxTables, 1)
	if err := in.setupWASI(); err != nil {
		return nil, err
	}
	linker, err := m.e.linkerFor()
	if err != nil {
		return nil, err
	}
	// Start-up (a Go guest's _initialize burns ~650k fuel) is bounded by the
	// batch deadline, or ctx's if sooner, but not by the per-batch fuel
	// budget. One deadline covers all of it.
	budget, ctxBound := cfg.Limits.BatchDeadline, false
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < budget {
		budget, ctxBound = max(time.Until(dl), 0), true
	}
	in.store.SetEpochDeadline(in.ticks(budget))
	in.callStart, in.hostTime = time.Now(), 0
	if err := in.store.SetFuel(unmeteredFuel); err != nil {
		return nil, fmt.Errorf("sandbox: set fuel: %w", err)
	}
	startErr := func(err error, during string) error {
		e := in.classify(err, during)
		if se, ok := e.(*Error); ok && se.Kind == KindDeadline && ctxBound {
			se.Detail = during + ": start-up did not finish by the context's deadline"
			if se.Err = ctx.Err(); se.Err == nil { // the epoch ticked a hair before the context's timer
				se.Err = context.DeadlineExceeded
			}
		}
		return e
	}
	wi, err := linker.Instantiate(in.store, m.mod)
	if err != nil {
		if perr := m.e.poolErr(string(cfg.Agent), err); perr != nil {
			return nil, perr
		}
		return nil, startErr(err, "instantiate")
	}
	in.mem = export(in.store, wi, "memory", (*wasmtime.Extern).Memory)
	if in.mem == nil {
		return nil, in.abiErr("export memory is not a plain linear memory")
	}
	for _, name := range m.tables {
		if t := export(in.store, wi, name, (*wasmtime.Extern).Table); t != nil {
			in.tables = append(in.tables, t)
		}
	}
	in.alloc = export(in.store, wi, "caxton_alloc", (*wasmtime.Extern).Func)
	in.handle = export(in.store, wi, "caxton_handle", (*wasmtime.Extern).Func)
	if snap != nil {
		if err := in.restore(wi, snap); err != nil {
			return nil, err
		}
		started = true
		return in, nil
	}
	var fresh []byte
	if cfg.Snapshots && m.noSnapshot == "" {
		fresh = in.snapshotPrep(wi)
	}
	if m.init {
		if _, err := in.call(export(in.store, wi, "_initialize", (*wasmtime.Extern).Func)); err != nil {
			return nil, startErr(err, "_initialize")
		}
	}
	if !m.abiChecked.Load() { // once per module: see Module.abiChecked
		v, err := in.call(export(in.store, wi, "caxton_abi_version", (*wasmtime.Extern).Func))
		if err != nil {
			return nil, startErr(err, "caxton_abi_version")
		}
		if got, _ := v.(int32); got != abi.Version {
			return nil, in.abiErr("guest declares ABI version %v; this host implements version %d", v, abi.Version)
		}
		m.abiChecked.Store(true)
	}
	if err := in.initData(wi, startErr); err != nil {
		return nil, err
	}
	if cfg.Snapshots && m.noSnapshot == "" {
		in.snapshotImage(fresh)
	}
	if err := ctx.Err(); err != nil { // cancelled while the guest started
		return nil, fmt.Errorf("sandbox: agent %q: start-up finished after the context ended: %w", cfg.Agent, err)
	}
	started = true
	return in, nil
}

func (in *Instance) setupWASI() error {
	g := in.cfg.Grants
	if !in.m.wasi && len(g.Args) == 0 && len(g.Env) == 0 && len(g.Dirs) == 0 {
		// Nothing could use a WASI context (or report a bad grant): a C
		// agent that imports only caxton saves building one per spawn.
		return nil
	}
	w := wasmtime.NewWasiConfig()
	if len(g.Args) > 0 {
		w.SetArgv(g.Args)
	}
	if len(g.Env) > 0 {
		keys := make([]string, 0, len(g.Env))
		for k := range g.Env {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = g.Env[k]
		}
		w.SetEnv(keys, vals)
	}
	for _, d := range g.Dirs {
		dp, fp := wasmtime.DIR_READ, wasmtime.FILE_READ
		if d.Writable {
			dp, fp = dp|wasmtime.DIR_WRITE, fp|wasmtime.FILE_WRITE
		}
		if err := w.PreopenDir(d.HostPath, d.GuestPath, dp, fp); err != nil {
			return fmt.Errorf("sandbox: agent %q: grant %s as %s: %w", in.cfg.Agent, d.HostPath, d.GuestPath, err)
		}
	}
	if in.m.wasi {
		// stdout and stderr each go to an unlinked temporary file (wasmtime
		// opens the path itself, without O_APPEND, so the two streams cannot
		// share one) that the host reads after each call and forwards to the
		// agent's log.
		for _, s := range []struct {
			name string
			set  func(string) error
		}{{"stdout", w.SetStdoutFile}, {"stderr", w.SetStderrFile}} {
			f, err := os.CreateTemp("", "caxton-"+s.name+"-*")
			if err != nil {
				return fmt.Errorf("sandbox: capture %s: %w", s.name, err)
			}
			err = s.set(f.Name())
			os.Remove(f.Name())
			if err != nil {
				f.Close()
				return fmt.Errorf("sandbox: capture %s: %w", s.name, err)
			}
			in.stdio = append(in.stdio, captured{name: s.name, f: f, r: bufio.NewReaderSize(f, 4096)})
		}
	}
	in.store.SetWasi(w)
	return nil
}

func (in *Instance) deadlineTicks() uint64 { return in.ticks(in.cfg.Limits.BatchDeadline) }

// ticks converts a time budget to an epoch deadline: whole ticks, rounded
// up, plus one because the current tick is already under way.
func (in *Instance) ticks(d time.Duration) uint64 {
	t := in.m.e.tick
	return uint64((d+t-1)/t) + 1
}

func (in *Instance) batchFuel() uint64 {
	if in.cfg.Limits.FuelPerBatch > 0 {
		return in.cfg.Limits.FuelPerBatch
	}
	return unmeteredFuel
}

// MemoryBytes returns the guest's linear memory size as of its last call.
// Unlike the rest of Instance, it is safe to call from any goroutine.
func (in *Instance) MemoryBytes() int64 { return in.memBytes.Load() }

// FuelUsed returns the fuel the last call consumed.
func (in *Instance) FuelUsed() uint64 { return in.fuel }

// Accepts reports whether m is within the instance's inbound message limit;
// the caller should keep larger messages out of batches (Handle refuses a
// batch that contains one).
func (in *Instance) Accepts(m *acl.Message) error {
	if n := abi.EncodedSize(m); n > in.cfg.Limits.MaxInboundMessage {
		return fmt.Errorf("sandbox: message is %d bytes encoded; agent %q accepts at most %d", n, in.cfg.Agent, in.cfg.Limits.MaxInboundMessage)
	}
	return nil
}

// Handle runs one batch through the guest with one call and returns the
// messages it emitted (in its order, not yet stamped or validated). On any
// error nothing is returned: a failed batch has emitted nothing. An error is
// a *Error; if Broken() the instance must be closed and replaced.
func (in *Instance) Handle(ctx context.Context, msgs []*acl.Message) ([]*acl.Message, error) {
	if in.closed {
		return nil, in.abiErr("instance is closed")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in.ctx = ctx
	defer func() { in.ctx = context.Background() }()
	lim := in.cfg.Limits
	in.batch = in.batch[:0]
	in.batch = append(in.batch, 0, 0, 0, 0)
	for i, m := range msgs {
		if n := abi.EncodedSize(m); n > lim.MaxInboundMessage {
			return nil, &Error{Agent: in.cfg.Agent, Kind: KindGuestPermanent,
				Detail: fmt.Sprintf("message %d is %d bytes encoded; the agent accepts at most %d", i, n, lim.MaxInboundMessage)}
		}
		in.batch = abi.AppendMessage(in.batch, m)
	}
	putU32(in.batch, uint32(len(msgs)))
	// The deadline and fuel budget cover the whole batch, buffer allocation
	// included; both must be re-armed before every call into the guest.
	in.store.SetEpochDeadline(in.deadlineTicks())
	in.callStart, in.hostTime = time.Now(), 0
	if err := in.store.SetFuel(in.batchFuel()); err != nil {
		return nil, fmt.Errorf("sandbox: set fuel: %w", err)
	}
	if err := in.copyIn(); err != nil {
		return nil, err
	}
	in.oom = false
	res, err := in.call(in.handle, int32(in.bufPtr), int32(len(in.batch)))
	if left, ferr := in.store.GetFuel(); ferr == nil {
		in.fuel = in.batchFuel() - left
	}
	in.drainStdio()
	in.memBytes.Store(int64(in.mem.DataSize(in.store)))
	if err != nil {
		return nil, in.classify(err, "caxton_handle")
	}
	r, _ := res.(int64)
	switch {
	case r == abi.StatusFailed:
		return nil, &Error{Agent: in.cfg.Agent, Kind: KindGuestFailed, Detail: "the guest's handler failed", FuelUsed: in.fuel}
	case r == abi.StatusPermanent:
		return nil, &Error{Agent: in.cfg.Agent, Kind: KindGuestPermanent, Detail: "the guest's handler failed permanently", FuelUsed: in.fuel}
	case r == abi.StatusBadInput:
		return nil, in.abiErr("the guest could not decode its batch")
	case r < 0:
		return nil, in.abiErr("caxton_handle returned unknown status %d", r)
	}
	ptr, n := uint32(r>>32), uint32(r)
	if n == 0 {
		return nil, nil
	}
	data := in.mem.UnsafeData(in.store)
	if uint64(ptr)+uint64(n) > uint64(len(data)) {
		return nil, in.abiErr("outbox [%d, +%d) lies outside memory of %d bytes", ptr, n, len(data))
	}
	out, err := abi.DecodeBatch(data[ptr:ptr+n], abi.Limits{MaxMessages: lim.MaxOutboxMessages, MaxMessageSize: lim.MaxOutboundMessage})
	if err != nil {
		return nil, in.abiErr("outbox: %v", err)
	}
	return out, nil
}

// copyIn puts the encoded batch into guest memory, asking the guest for a
// bigger buffer only when the current one is too small.
func (in *Instance) copyIn() error {
	need := uint32(len(in.batch))
	if need > in.bufCap {
		v, err := in.call(in.alloc, int32(need))
		if err != nil {
			return in.classify(err, "caxton_alloc")
		}
		p, _ := v.(int32)
		if p == 0 {
			return &Error{Agent: in.cfg.Agent, Kind: KindMemory, Detail: fmt.Sprintf("caxton_alloc(%d) returned 0", need)}
		}
		in.bufPtr, in.bufCap = uint32(p), need
	}
	data := in.mem.UnsafeData(in.store)
	if uint64(in.bufPtr)+uint64(need) > uint64(len(data)) {
		return in.abiErr("caxton_alloc returned [%d, +%d) outside memory of %d bytes", in.bufPtr, need, len(data))
	}
	copy(data[in.bufPtr:], in.batch)
	return nil
}

func (in *Instance) call(f *wasmtime.Func, args ...any) (any, error) {
	return f.Call(in.store, args...)
}

// captured is the host's read side of one of a guest's output streams.
type captured struct {
	name string
	f    *os.File
	r    *bufio.Reader
}

// drainStdio forwards what the guest wrote to stdout/stderr to the log, one
// record per line. A guest cannot make the host buffer or log without
// bound: lines are cut into 4 KiB records (the reader's buffer, kept small
// because every WASI guest has two), at most maxOutputPerCall bytes per
// stream are forwarded per call (the rest is skipped, and said so), and the
// file is emptied after each call.
func (in *Instance) drainStdio() {
	for _, c := range in.stdio {
		forwarded, skipped := 0, int64(0)
		for forwarded < maxOutputPerCall {
			line, err := c.r.ReadSlice('\n')
			forwarded += len(line)
			if text := strings.TrimRight(string(line), "\n"); text != "" {
				in.cfg.Logger.InfoContext(in.ctx, text, "stream", c.name)
				if strings.Contains(text, "out of memory") {
					in.oom = true
				}
			}
			if err == nil || errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if !errors.Is(err, io.EOF) {
				in.cfg.Logger.WarnContext(in.ctx, "sandbox: reading guest output", "stream", c.name, "error", err)
			}
			break
		}
		if end, err := c.f.Seek(0, io.SeekEnd); err == nil {
			if pos, err := c.f.Seek(0, io.SeekCurrent); err == nil {
				skipped = end - pos + int64(c.r.Buffered())
			}
		}
		if skipped > 0 {
			in.cfg.Logger.WarnContext(in.ctx, "sandbox: guest output over the per-call limit was skipped", "stream", c.name, "bytes", skipped)
		}
		// Empty the file (wasmtime keeps writing at its own offset, so the
		// discarded region becomes a hole that takes no disk space).
		_ = c.f.Truncate(0)
		_, _ = c.f.Seek(0, io.SeekStart)
		c.r.Reset(c.f)
	}
}

func (in *Instance) abiErr(format string, args ...any) *Error {
	return &Error{Agent: in.cfg.Agent, Kind: KindABIViolation, Detail: fmt.Sprintf(format, args...), FuelUsed: in.fuel}
}

// Close releases the store (and with it the instance's memory). It is
// idempotent.
func (in *Instance) Close() error {
	in.closeMu.Lock()
	defer in.closeMu.Unlock()
	if in.closed {
		return nil
	}
	in.closed = true
	in.store.Close()
	releaseStore()
	in.m.e.leave()
	var errs []error
	for _, c := range in.stdio {
		errs = append(errs, c.f.Close())
	}
	return errors.Join(errs...)
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
