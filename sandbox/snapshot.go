//go:build cgo

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"weak"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// ErrNoSnapshot is wrapped by Snapshot and Restore when an instance's state
// cannot be saved or put back; the message says why.
var ErrNoSnapshot = errors.New("sandbox: no snapshot")

// snapshotBlock is the granularity of a module's image (baseImage.changed):
// a restore rewrites the blocks of this many bytes that start-up changed.
const snapshotBlock = 64

// Snapshot is an instance's state at rest, between two batches: its linear
// memory and its mutable globals (and the host's record of the guest's
// inbound buffer). Memory is kept as the bytes that differ from the
// module's memory image after start-up, which all snapshots of the module
// with the same init data share, so a snapshot costs about as much as the
// state the agent built. Restore puts it into a new instance of the same
// module.
//
// What a snapshot does not hold: tables (restored from the module's
// element segments; Snapshot refuses an instance whose tables grew) and
// the host side of WASI (open files, captured output), which a restored
// instance gets anew from its InstanceConfig. A Snapshot is immutable and
// safe to share.
type Snapshot struct {
	m       *Module
	base    *baseImage
	size    uint64   // memory size in bytes
	runs    []byte   // the bytes that differ from base (snapdiff.go)
	globals []uint64 // the mutable globals' bits, in m.globals' order
	bufPtr  uint32   // the guest's inbound buffer (see Instance.copyIn)
	bufCap  uint32
}

// Bytes is the memory the snapshot holds of its own (the shared image not
// counted): the struct, its runs and its globals.
func (s *Snapshot) Bytes() int {
	return len(s.runs) + 8*len(s.globals) + 80
}

// MemorySize is the size of the guest's linear memory the snapshot
// restores, in bytes.
func (s *Snapshot) MemorySize() uint64 { return s.size }

// savedGlobal names a mutable global that snapshots save.
type savedGlobal struct {
	name string
	kind wasmtime.ValKind
}

// baseImage is a module's memory after start-up with some init data, and
// which of its blocks start-up changed (the others equal a freshly
// instantiated memory, zero past its initial size), so that Restore writes
// only those.
type baseImage struct {
	mem     []byte
	changed []uint32
}

// baseImages are a module's images, by init data. The map holds them
// weakly: instances and snapshots hold their image, and an image none of
// them holds any more is collected (and its entry removed), so a module
// that sees many init data (a script per agent, hot reloads) does not keep
// a copy of memory for each for the engine's life.
type baseImages struct {
	mu sync.Mutex
	m  map[contentKey]weak.Pointer[baseImage]
}

func (b *baseImages) get(k contentKey) *baseImage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[k].Value()
}

// keep stores img unless another instance stored one first, and returns
// the one stored.
func (b *baseImages) keep(k contentKey, img *baseImage) *baseImage {
	b.mu.Lock()
	defer b.mu.Unlock()
	if have := b.m[k].Value(); have != nil {
		return have
	}
	if b.m == nil {
		b.m = map[contentKey]weak.Pointer[baseImage]{}
	}
	wp := weak.Make(img)
	b.m[k] = wp
	runtime.AddCleanup(img, func(k contentKey) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.m[k] == wp { // not replaced by a newer image meanwhile
			delete(b.m, k)
		}
	}, k)
	return img
}

// snapshotPrep runs before start-up for an instance whose config asks for
// snapshots: it takes the globals' handles and finds the module's image
// for the init data, or, when there is none yet, copies the fresh memory
// so that snapshotImage can make one.
func (in *Instance) snapshotPrep(wi *wasmtime.Instance) (fresh []byte) {
	in.globalHandles(wi)
	in.baseKey = in.m.e.seeds.key(in.cfg.Init)
	if in.base = in.m.bases.get(in.baseKey); in.base != nil {
		return nil
	}
	return bytes.Clone(in.mem.UnsafeData(in.store))
}

// globalHandles takes the handles of the module's mutable globals.
func (in *Instance) globalHandles(wi *wasmtime.Instance) {
	for _, g := range in.m.globals {
		in.globals = append(in.globals, export(in.store, wi, g.name, (*wasmtime.Extern).Global))
	}
}

// tablesNow records the tables' sizes, which a snapshot must find again:
// after start-up (which may grow them), or after a restore.
func (in *Instance) tablesNow() {
	in.tableSizes = in.tableSizes[:0]
	for _, t := range in.tables {
		in.tableSizes = append(in.tableSizes, t.Size(in.store))
	}
}

// snapshotImage runs after start-up: it records the tables' sizes and
// makes the module's image from the memory, when snapshotPrep copied the
// fresh one.
func (in *Instance) snapshotImage(fresh []byte) {
	in.tablesNow()
	if in.base != nil {
		return
	}
	img := &baseImage{mem: bytes.Clone(in.mem.UnsafeData(in.store))}
	img.changed = changedBlocks(img.mem, fresh, nil)
	in.base = in.m.bases.keep(in.baseKey, img)
}

// changedBlocks appends to dst the indexes of the blocks of mem that
// differ from old (read as zero past its end).
func changedBlocks(mem, old []byte, dst []uint32) []uint32 {
	var zero [snapshotBlock]byte
	for off := 0; off < len(mem); off += snapshotBlock {
		end := min(off+snapshotBlock, len(mem))
		var was []byte
		switch {
		case end <= len(old):
			was = old[off:end]
		case off < len(old):
			if !bytes.Equal(mem[off:len(old)], old[off:]) || !bytes.Equal(mem[len(old):end], zero[:end-len(old)]) {
				dst = append(dst, uint32(off/snapshotBlock))
			}
			continue
		default:
			was = zero[:end-off]
		}
		if !bytes.Equal(mem[off:end], was) {
			dst = append(dst, uint32(off/snapshotBlock))
		}
	}
	return dst
}

// Snapshot saves the instance's state between batches (see Snapshot). The
// instance goes on working; a runtime that hibernates an agent closes it
// after. It fails, wrapping ErrNoSnapshot, for a module whose state the host
// cannot reach (Module.Snapshottable says why), an instance not started with
// InstanceConfig.Snapshots, or one whose tables grew.
func (in *Instance) Snapshot() (*Snapshot, error) {
	if in.closed {
		return nil, fmt.Errorf("%w: agent %q: the instance is closed", ErrNoSnapshot, in.cfg.Agent)
	}
	if err := in.m.Snapshottable(); err != nil {
		return nil, fmt.Errorf("agent %q: %w", in.cfg.Agent, err)
	}
	if in.base == nil {
		return nil, fmt.Errorf("%w: agent %q: its instance was not started with InstanceConfig.Snapshots", ErrNoSnapshot, in.cfg.Agent)
	}
	for i, t := range in.tables {
		if t.Size(in.store) != in.tableSizes[i] {
			return nil, fmt.Errorf("%w: agent %q: the guest grew a table, whose contents a snapshot cannot save", ErrNoSnapshot, in.cfg.Agent)
		}
	}
	mem := in.mem.UnsafeData(in.store)
	s := &Snapshot{m: in.m, base: in.base, size: uint64(len(mem)), bufPtr: in.bufPtr, bufCap: in.bufCap}
	s.runs = diffRuns(mem, in.base.mem)
	s.globals = make([]uint64, len(in.globals))
	for i, g := range in.globals {
		v := g.Get(in.store)
		switch in.m.globals[i].kind {
		case wasmtime.KindI32:
			s.globals[i] = uint64(uint32(v.I32()))
		case wasmtime.KindI64:
			s.globals[i] = uint64(v.I64())
		case wasmtime.KindF32:
			s.globals[i] = uint64(math.Float32bits(v.F32()))
		case wasmtime.KindF64:
			s.globals[i] = math.Float64bits(v.F64())
		}
	}
	return s, nil
}

// Snapshottable reports, as an error wrapping ErrNoSnapshot, why instances
// of the module cannot be snapshotted: a mutable global of a reference or
// vector type, a start function (it would run again on restore), or a
// module the host could not read. It is nil for a module that can.
func (m *Module) Snapshottable() error {
	if m.noSnapshot != "" {
		return fmt.Errorf("%w: the module cannot be snapshotted: %s", ErrNoSnapshot, m.noSnapshot)
	}
	return nil
}

// Restore starts a new instance of m in the state s saved, instead of
// running start-up: no _initialize, no init data, so it costs about an
// instantiation and a copy of the blocks s holds. cfg is the instance's
// config as for Instantiate (its Init is not used: the state already holds
// what start-up made of it); the restored instance can be snapshotted
// again. s must come from an instance of m; a memory limit in cfg smaller
// than the saved memory fails with KindMemory.
func (m *Module) Restore(ctx context.Context, cfg InstanceConfig, s *Snapshot) (*Instance, error) {
	if s == nil || s.m != m {
		return nil, fmt.Errorf("%w: agent %q: the snapshot is not of this module", ErrNoSnapshot, cfg.Agent)
	}
	return m.instantiate(ctx, cfg, s)
}

// restore puts s into a new instance, before any guest code but a start
// function (which snapshottable modules do not have) has run.
func (in *Instance) restore(wi *wasmtime.Instance, s *Snapshot) error {
	in.globalHandles(wi)
	in.base = s.base
	have := in.mem.DataSize(in.store)
	if uint64(have) > s.size || (s.size-uint64(have))%wasmPage != 0 {
		return fmt.Errorf("%w: agent %q: the new instance has %d bytes of memory, the snapshot %d", ErrNoSnapshot, in.cfg.Agent, have, s.size)
	}
	if grow := (s.size - uint64(have)) / wasmPage; grow > 0 {
		if _, err := in.mem.Grow(in.store, grow); err != nil {
			return &Error{Agent: in.cfg.Agent, Kind: KindMemory,
				Detail: fmt.Sprintf("restore: cannot grow memory to the snapshot's %d bytes (limit %d)", s.size, in.cfg.Limits.MaxMemory)}
		}
	}
	mem := in.mem.UnsafeData(in.store)
	// The image may be larger than this snapshot's memory: it was made by
	// the module's first instance with this init data, whose start-up may
	// have grown memory more than this one's did (start-up can depend on
	// the clock). The snapshot covers its own size only.
	base := s.base.mem[:min(len(s.base.mem), len(mem))]
	for _, b := range s.base.changed {
		off := int(b) * snapshotBlock
		if off >= len(base) {
			break // blocks are in order
		}
		copy(mem[off:], base[off:min(off+snapshotBlock, len(base))])
	}
	if err := applyRuns(mem, s.runs); err != nil {
		return fmt.Errorf("%w: agent %q: %w", ErrNoSnapshot, in.cfg.Agent, err)
	}
	for i, g := range in.globals {
		bits := s.globals[i]
		var v wasmtime.Val
		switch in.m.globals[i].kind {
		case wasmtime.KindI32:
			v = wasmtime.ValI32(int32(uint32(bits)))
		case wasmtime.KindI64:
			v = wasmtime.ValI64(int64(bits))
		case wasmtime.KindF32:
			v = wasmtime.ValF32(math.Float32frombits(uint32(bits)))
		case wasmtime.KindF64:
			v = wasmtime.ValF64(math.Float64frombits(bits))
		}
		if err := g.Set(in.store, v); err != nil {
			return in.abiErr("restore: set global %s: %v", in.m.globals[i].name, err)
		}
	}
	in.bufPtr, in.bufCap = s.bufPtr, s.bufCap
	in.memBytes.Store(int64(len(mem)))
	in.tablesNow()
	return nil
}

// wasmPage is the size of a WebAssembly memory page.
const wasmPage = 64 << 10
