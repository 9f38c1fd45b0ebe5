//go:build cgo

package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// ErrNoPreinit is wrapped by Preinitialize when a module's start-up cannot
// be baked into a new module; the message says why.
var ErrNoPreinit = errors.New("sandbox: cannot pre-initialise")

// preinitExported marks a module made by Preinitialize: its start-up has
// run, so instances skip _initialize (renamed preinitDone) and caxton_init.
const (
	preinitExported = "caxton:preinitialized"
	preinitDone     = "caxton:initialized"
	preinitVersion  = "caxton-preinit-1"
)

// Preinitialize returns a module whose instances start where a fresh
// instance of wasm stands after its start-up with cfg (the start function,
// _initialize, caxton_init with cfg.Init): start-up runs once, here, and
// its memory and mutable globals become the new module's data segments and
// global initialisers — what Wizer does, inside the sandbox. An instance of
// the result starts by mapping that image (copy-on-write) instead of
// running the guest's set-up again: a Go guest's runtime initialisation, an
// interpreter's, a script's compilation.
//
// The result is keyed by wasm, cfg.Init and cfg.Grants (start-up may read
// the environment, arguments and preopened directories), and cached like
// any module (on disk with WithCacheDir, so a process that finds it does not
// run start-up at all). Its instances must be given the same Init and
// Grants. What start-up drew from the clock or random numbers is frozen
// into the image and shared by every instance; later calls read them anew.
//
// ctx bounds start-up: its deadline interrupts the guest. When ctx ends
// before the result is ready, Preinitialize returns ctx's error (wrapped)
// at once, as Compile does, and the work goes on in the background and
// fills the cache for the next call: the compilation of the baked module,
// which wasmtime cannot interrupt, and start-up itself if ctx was
// cancelled rather than past a deadline (then bounded by the batch
// deadline of cfg.Limits; it may call cfg.Tools after the return). Close
// waits for it. The background keeps copies of wasm and cfg's init data
// and grants.
//
// It fails, wrapping ErrNoPreinit, for a module that cannot be snapshotted
// (Module.Snapshottable), one with passive data segments (code may copy
// them into memory later), or a memory that start-up grew past the
// module's maximum; and with start-up's own error if the guest does not
// start.
func (e *Engine) Preinitialize(ctx context.Context, wasm []byte, cfg InstanceConfig) (*Module, error) {
	m, err := e.Compile(ctx, wasm)
	if err != nil {
		return nil, err
	}
	if m.preinit {
		return m, nil
	}
	if err := m.Snapshottable(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoPreinit, err)
	}
	key := preinitKey(m.key, cfg)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	if pm, ok := e.modules[key]; ok {
		e.mu.Unlock()
		return pm, nil
	}
	// Counted as a compilation (under the lock Close takes): Close waits
	// for the bake's instance and compile to finish.
	e.compiling.Add(1)
	e.mu.Unlock()
	if ctx.Done() != nil {
		// Start-up runs under ctx (its deadline interrupts the guest), but
		// compiling the baked module cannot be interrupted: the work may
		// go on after this call returns, with its own copies of what the
		// caller may change.
		wasm, cfg = bytes.Clone(wasm), cloneConfig(cfg)
	}
	return e.finishInBackground(ctx, "pre-initialise", func() (*Module, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mod, err := e.loadWith(key, func() ([]byte, error) { return e.bake(ctx, m, wasm, cfg) })
		if err != nil {
			return nil, err
		}
		return e.install(key, mod, nil)
	})
}

// cloneConfig copies what of cfg a caller may change: the init data and
// the grants' slices and map.
func cloneConfig(cfg InstanceConfig) InstanceConfig {
	cfg.Init = bytes.Clone(cfg.Init)
	cfg.Grants.Args = slices.Clone(cfg.Grants.Args)
	cfg.Grants.Env = maps.Clone(cfg.Grants.Env)
	cfg.Grants.Dirs = slices.Clone(cfg.Grants.Dirs)
	return cfg
}

// preinitKey names a pre-initialised module: the original's key, the init
// data and the grants its start-up saw.
func preinitKey(orig [32]byte, cfg InstanceConfig) [32]byte {
	h := sha256.New()
	h.Write([]byte(preinitVersion))
	h.Write(orig[:])
	field := func(s string) {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	field(string(cfg.Init))
	g := cfg.Grants
	field(strconv.Itoa(len(g.Args)))
	for _, s := range g.Args {
		field(s)
	}
	env := make([]string, 0, len(g.Env))
	for k, v := range g.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	field(strconv.Itoa(len(env)))
	for _, s := range env {
		field(s)
	}
	field(strconv.Itoa(len(g.Dirs)))
	for _, d := range g.Dirs {
		field(fmt.Sprintf("%+v", d))
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// bake runs start-up once and returns the module with its outcome as the
// initial state.
func (e *Engine) bake(ctx context.Context, m *Module, wasm []byte, cfg InstanceConfig) ([]byte, error) {
	cfg.Snapshots = true
	in, err := m.Instantiate(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	snap, err := in.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoPreinit, err)
	}
	mem := make([]byte, snap.size)
	copy(mem, snap.base.mem)
	if err := applyRuns(mem, snap.runs); err != nil {
		return nil, fmt.Errorf("%w: agent %q: %w", ErrNoPreinit, cfg.Agent, err)
	}
	globals := map[string]uint64{}
	for i, g := range m.globals {
		globals[g.name] = snap.globals[i]
	}
	out, err := bakeModule(wasm, mem, globals)
	if err != nil {
		return nil, fmt.Errorf("%w: agent %q: %w", ErrNoPreinit, cfg.Agent, err)
	}
	return out, nil
}

// bakeModule returns wasm with mem as its memory's initial contents (as
// active data segments), the mutable globals named in globals (by export
// name, as the module rewrite exports them) initialised to those bits,
// _initialize renamed so no one runs it again, and the preinitExported
// mark.
func bakeModule(wasm, mem []byte, globals map[string]uint64) ([]byte, error) {
	sh, err := readShape(wasm)
	if err != nil {
		return nil, err
	}
	// Which global each saved name is: the rewrite's names carry the
	// index; the guest's own exports are looked up.
	byIndex := map[uint32]uint64{}
	exports, err := readExports(sh.exportBody)
	if err != nil {
		return nil, err
	}
	for name, bits := range globals {
		if n, ok := strings.CutPrefix(name, globalExportPrefix); ok {
			i, err := strconv.ParseUint(n, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("global export %q", name)
			}
			byIndex[uint32(i)] = bits
			continue
		}
		ex, ok := exports[name]
		if !ok || ex.kind != 3 {
			return nil, fmt.Errorf("no global export %q", name)
		}
		byIndex[ex.idx] = bits
	}
	// The new data section, with at least as many segments as the old one
	// (empty ones pad it): code may name segments by index (data.drop of
	// an active segment is valid, and a no-op, after instantiation), and a
	// data count section must match.
	var oldCount uint32
	if sh.dataBody != nil {
		if oldCount, err = onlyActiveData(sh.dataBody); err != nil {
			return nil, err
		}
	}
	data, count := dataSegments(mem, oldCount)
	out := append([]byte(nil), wasm[:8]...)
	r := &wasmReader{b: wasm, off: 8}
	wroteData := false
	for r.off < len(r.b) {
		start := r.off
		id := r.byte()
		body := r.bytes(r.u32())
		if r.err != nil {
			return nil, r.err
		}
		var nb []byte
		switch id {
		case 8:
			return nil, errors.New("it has a start function")
		case 12:
			nb = binary.AppendUvarint(nil, uint64(count))
		case 5:
			nb, err = bakeMemory(body, uint64(len(mem)))
		case 6:
			nb, err = bakeGlobals(body, sh.importedGlobals, byIndex)
		case 7:
			nb = bakeExports(body, exports)
		case 11:
			nb, wroteData = data, true
		default:
			out = append(out, wasm[start:r.off]...)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = appendSection(out, id, nb)
	}
	if !wroteData { // after every other section (custom ones may be anywhere)
		out = appendSection(out, 11, data)
	}
	return out, nil
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = binary.AppendUvarint(out, uint64(len(body)))
	return append(out, body...)
}

// bakeMemory sets the one memory's minimum to size bytes.
func bakeMemory(body []byte, size uint64) ([]byte, error) {
	s := &wasmReader{b: body}
	if s.u32() != 1 {
		return nil, errors.New("it does not define exactly one memory")
	}
	flags := s.byte()
	s.leb() // the old minimum
	var maxPages uint64
	if flags&0x01 != 0 {
		maxPages = s.leb()
	}
	if flags&^0x01 != 0 || s.err != nil || s.off != len(body) {
		return nil, errors.New("its memory is not a plain 32-bit memory")
	}
	pages := (size + wasmPage - 1) / wasmPage
	if flags&0x01 != 0 && pages > maxPages {
		return nil, fmt.Errorf("start-up grew memory to %d pages, past its maximum of %d", pages, maxPages)
	}
	out := []byte{1, flags}
	out = binary.AppendUvarint(out, pages)
	if flags&0x01 != 0 {
		out = binary.AppendUvarint(out, maxPages)
	}
	return out, nil
}

// bakeGlobals rewrites the initialisers of the globals in byIndex.
func bakeGlobals(body []byte, imported uint32, byIndex map[uint32]uint64) ([]byte, error) {
	s := &wasmReader{b: body}
	n := s.u32()
	out := binary.AppendUvarint(nil, uint64(n))
	for i := range n {
		start := s.off
		t := s.byte()
		if t == 0x63 || t == 0x64 {
			s.leb()
		}
		mut := s.byte()
		typeEnd := s.off
		s.constExpr()
		if s.err != nil {
			return nil, s.err
		}
		bits, ok := byIndex[imported+i]
		if !ok || mut != 1 {
			out = append(out, body[start:s.off]...)
			continue
		}
		out = append(out, body[start:typeEnd]...)
		switch t {
		case 0x7f:
			out = appendSLEB(append(out, 0x41), int64(int32(uint32(bits))))
		case 0x7e:
			out = appendSLEB(append(out, 0x42), int64(bits))
		case 0x7d:
			out = binary.LittleEndian.AppendUint32(append(out, 0x43), uint32(bits))
		case 0x7c:
			out = binary.LittleEndian.AppendUint64(append(out, 0x44), bits)
		default:
			return nil, fmt.Errorf("global %d is not numeric", imported+i)
		}
		out = append(out, 0x0b)
	}
	if s.off != len(body) {
		return nil, errUnreadable
	}
	return out, nil
}

// bakeExports renames _initialize and adds the preinitExported mark.
func bakeExports(body []byte, exports map[string]exportEntry) []byte {
	s := &wasmReader{b: body}
	n := s.u32()
	out := binary.AppendUvarint(nil, uint64(n)+1)
	for range n {
		name := string(s.bytes(s.u32()))
		kind := s.byte()
		idx := s.u32()
		if name == "_initialize" {
			name = preinitDone
		}
		out = binary.AppendUvarint(out, uint64(len(name)))
		out = append(out, name...)
		out = append(out, kind)
		out = binary.AppendUvarint(out, uint64(idx))
	}
	out = binary.AppendUvarint(out, uint64(len(preinitExported)))
	out = append(out, preinitExported...)
	return append(out, 2, 0) // memory 0
}

// onlyActiveData refuses passive segments and segments of other memories,
// and returns how many segments there are.
func onlyActiveData(body []byte) (uint32, error) {
	s := &wasmReader{b: body}
	n := s.u32()
	for range n {
		if f := s.u32(); f != 0 {
			return 0, errors.New("it has passive data segments (code may copy them in later), or segments of another memory")
		}
		s.constExpr()
		s.bytes(s.u32())
		if s.err != nil {
			return 0, s.err
		}
	}
	return n, nil
}

// dataSegments encodes mem's non-zero runs as active segments of memory
// 0 (runs closer than a segment's own overhead are merged), padded with
// empty segments to at least atLeast, and returns the section's body and
// its number of segments.
func dataSegments(mem []byte, atLeast uint32) ([]byte, uint32) {
	const gap = 16
	var segs [][2]int
	for i := 0; i < len(mem); {
		if mem[i] == 0 {
			i++
			continue
		}
		end, zeros := i, 0
		for j := i; j < len(mem) && zeros <= gap; j++ {
			if mem[j] == 0 {
				zeros++
			} else {
				end, zeros = j+1, 0
			}
		}
		segs = append(segs, [2]int{i, end})
		i = end
	}
	count := max(uint32(len(segs)), atLeast)
	out := binary.AppendUvarint(nil, uint64(count))
	for _, sg := range segs {
		out = append(out, 0, 0x41)
		out = appendSLEB(out, int64(sg[0]))
		out = append(out, 0x0b)
		out = binary.AppendUvarint(out, uint64(sg[1]-sg[0]))
		out = append(out, mem[sg[0]:sg[1]]...)
	}
	for range int(count) - len(segs) {
		out = append(out, 0, 0x41, 0, 0x0b, 0) // empty, at offset 0
	}
	return out, count
}

// appendSLEB appends v as a signed LEB128 number.
func appendSLEB(out []byte, v int64) []byte {
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}
