package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// The module rewrite adds exports the guest cannot see (it imports
// nothing of its own module) so the host can reach state wasmtime shows
// only when exported. Before compiling, exportHidden gives
//
//   - every table the module defines but does not export an export named
//     tableExportPrefix+index. A table the guest grows past
//     maxTableElements is not a trap: the store's limiter makes table.grow
//     return -1 (wasmtime-go v39 offers no callback), and the guest then
//     fails however it fails. To report that as KindTable the host must
//     see the table's size.
//   - every mutable global the module defines but does not export an export
//     named globalExportPrefix+index, and then the memory a second export
//     named stateExported: a snapshot (Instance.Snapshot) saves memory and
//     the mutable globals, and may only be taken when it sees all of them
//     (and when the module has no start function, which would run again,
//     and no code that changes tables or drops segments: stateOutsideMemory).
//
// Nothing else changes, and a module the rewrite cannot read is compiled as
// it is (it then has no stateExported, so it cannot be snapshotted).
const (
	tableExportPrefix  = "caxton:table:"
	globalExportPrefix = "caxton:global:"
	stateExported      = "caxton:state-exported"
)

// exportHidden returns wasm with the exports above added, or wasm itself
// when there is nothing to add or the module is not one it can read
// (wasmtime then says what is wrong with it).
func exportHidden(wasm []byte) []byte {
	out, err := addHiddenExports(wasm)
	if err != nil || out == nil {
		return wasm
	}
	return out
}

var errUnreadable = errors.New("unreadable module")

// moduleShape is what the rewrite reads of a module's sections.
type moduleShape struct {
	importedTables, importedGlobals uint32
	tables, memories                uint32
	start                           bool     // has a start function
	outside                         bool     // its code changes state a snapshot does not save (stateOutsideMemory)
	mutable                         []uint32 // indexes of the mutable globals it defines
	exportStart, exportEnd          int      // the export section, header included
	exportBody                      []byte
	dataBody                        []byte // the data section, if any
}

func readShape(wasm []byte) (*moduleShape, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errUnreadable // not a core module, version 1
	}
	sh := &moduleShape{exportStart: -1, exportEnd: -1}
	r := &wasmReader{b: wasm, off: 8}
	for r.off < len(r.b) {
		start := r.off
		id := r.byte()
		body := r.bytes(r.u32())
		if r.err != nil {
			return nil, r.err
		}
		s := &wasmReader{b: body}
		switch id {
		case 2: // imports
			sh.importedTables, sh.importedGlobals = s.imports()
		case 4: // tables
			// Counts are read, not trusted: one export is added per table,
			// and a 17-byte module claiming millions would make the host
			// allocate gigabytes before wasmtime refuses it. More than
			// wasmtime's own limit (100) is left for wasmtime to refuse.
			if sh.tables = s.u32(); sh.tables > 100 {
				return nil, errUnreadable
			}
		case 5: // memories
			sh.memories = s.u32()
		case 6: // globals
			n := s.u32()
			for i := range n {
				s.refType()
				if s.byte() == 1 {
					sh.mutable = append(sh.mutable, sh.importedGlobals+i)
				}
				s.constExpr()
				if s.err != nil {
					break
				}
			}
		case 8: // start
			sh.start = true
		case 7: // exports
			sh.exportStart, sh.exportEnd, sh.exportBody = start, r.off, body
		case 10: // code
			sh.outside = stateOutsideMemory(body)
		case 11: // data
			sh.dataBody = body
		}
		if s.err != nil {
			return nil, s.err
		}
	}
	return sh, nil
}

// reservedPrefix begins the names of the exports the host adds (the
// rewrite's, and a pre-initialised module's): a guest may not export one,
// or it could pass off a module as snapshottable (a forged
// stateExported) or hide a global from snapshots.
const reservedPrefix = "caxton:"

// reservedExport returns the first export of wasm whose name the host
// reserves, or "" (also for a module it cannot read: wasmtime judges it).
func reservedExport(wasm []byte) string {
	sh, err := readShape(wasm)
	if err != nil {
		return ""
	}
	exports, err := readExports(sh.exportBody)
	if err != nil {
		return ""
	}
	for name := range exports {
		if strings.HasPrefix(name, reservedPrefix) {
			return name
		}
	}
	return ""
}

type exportEntry struct {
	kind byte
	idx  uint32
}

// readExports reads an export section's entries by name, in order.
func readExports(body []byte) (map[string]exportEntry, error) {
	out := map[string]exportEntry{}
	if body == nil {
		return out, nil
	}
	s := &wasmReader{b: body}
	n := s.u32()
	for range n {
		name := string(s.bytes(s.u32()))
		kind := s.byte()
		idx := s.u32()
		if s.err != nil {
			return nil, s.err
		}
		out[name] = exportEntry{kind, idx}
	}
	return out, nil
}

func addHiddenExports(wasm []byte) ([]byte, error) {
	sh, err := readShape(wasm)
	if err != nil {
		return nil, err
	}
	if sh.exportStart < 0 {
		return nil, nil // not an agent (it has no exports): nothing to add
	}
	// What is exported already, and which names are taken.
	s := &wasmReader{b: sh.exportBody}
	n := s.u32()
	entries := s.off
	exported := map[[2]uint32]bool{} // kind, index
	names := map[string]bool{}
	for range n {
		name := s.bytes(s.u32())
		kind := s.byte()
		idx := s.u32()
		if s.err != nil {
			return nil, s.err
		}
		names[string(name)] = true
		exported[[2]uint32{uint32(kind), idx}] = true
	}
	if s.off != len(sh.exportBody) {
		return nil, errUnreadable
	}
	var added []byte
	count := n
	add := func(name string, kind byte, idx uint32) {
		added = binary.AppendUvarint(added, uint64(len(name)))
		added = append(added, name...)
		added = append(added, kind)
		added = binary.AppendUvarint(added, uint64(idx))
		count++
	}
	for i := sh.importedTables; i < sh.importedTables+sh.tables; i++ {
		name := tableExportPrefix + strconv.FormatUint(uint64(i), 10)
		if !exported[[2]uint32{1, i}] && !names[name] {
			add(name, 1, i)
		}
	}
	allGlobals := true
	for _, i := range sh.mutable {
		name := globalExportPrefix + strconv.FormatUint(uint64(i), 10)
		switch {
		case exported[[2]uint32{3, i}]:
		case names[name]:
			allGlobals = false // the guest took the name: no snapshots
		default:
			add(name, 3, i)
		}
	}
	// A start function runs again when a snapshot is restored into a new
	// instance: a module with one is not snapshotted.
	if allGlobals && !sh.start && !sh.outside && sh.memories > 0 && !names[stateExported] {
		add(stateExported, 2, 0)
	}
	if added == nil {
		return nil, nil
	}
	body := binary.AppendUvarint(nil, uint64(count))
	body = append(body, sh.exportBody[entries:]...)
	body = append(body, added...)
	out := make([]byte, 0, len(wasm)+len(added)+8)
	out = append(out, wasm[:sh.exportStart]...)
	out = append(out, 7)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	return append(out, wasm[sh.exportEnd:]...), nil
}

// wasmReader reads the binary format; the first error sticks.
type wasmReader struct {
	b   []byte
	off int
	err error
}

func (r *wasmReader) byte() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.err = errUnreadable
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

// leb reads an unsigned LEB128 number of at most 10 bytes (a u32, u64 or
// the bits of an s33).
func (r *wasmReader) leb() uint64 {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errUnreadable
	return 0
}

func (r *wasmReader) u32() uint32 {
	v := r.leb()
	if v > 1<<32-1 {
		r.err = errUnreadable
	}
	return uint32(v)
}

func (r *wasmReader) bytes(n uint32) []byte {
	if r.err != nil || uint64(n) > uint64(len(r.b)-r.off) {
		r.err = errUnreadable
		return nil
	}
	r.off += int(n)
	return r.b[r.off-int(n) : r.off]
}

// imports counts the tables and globals among the imports (they come
// first in their index spaces).
func (r *wasmReader) imports() (tables, globals uint32) {
	n := r.u32()
	for range n {
		r.bytes(r.u32()) // module
		r.bytes(r.u32()) // name
		switch r.byte() {
		case 0x00: // function: type index
			r.leb()
		case 0x01: // table: reference type, limits
			r.refType()
			r.limits()
			tables++
		case 0x02: // memory: limits
			r.limits()
		case 0x03: // global: value type, mutability
			r.refType()
			r.byte()
			globals++
		case 0x04: // tag: attribute, type index
			r.byte()
			r.leb()
		default:
			r.err = errUnreadable
		}
		if r.err != nil {
			return 0, 0
		}
	}
	return tables, globals
}

// constExpr skips a constant expression (a global's initialiser): the
// instructions the core specification and extended-const allow, up to end.
func (r *wasmReader) constExpr() {
	for r.err == nil {
		switch op := r.byte(); op {
		case 0x0b: // end
			return
		case 0x41, 0x42, 0x23, 0xd0, 0xd2: // i32.const, i64.const, global.get, ref.null, ref.func
			r.leb()
		case 0x43: // f32.const
			r.bytes(4)
		case 0x44: // f64.const
			r.bytes(8)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // i32/i64 add, sub, mul
		case 0xfd: // v128.const
			if r.u32() != 12 {
				r.err = errUnreadable
			}
			r.bytes(16)
		default:
			r.err = errUnreadable
		}
	}
}

// refType skips a value or reference type: one byte, or (ref null? ht)
// with a heap type that is an s33.
func (r *wasmReader) refType() {
	if t := r.byte(); t == 0x63 || t == 0x64 {
		r.leb()
	}
}

// limits skips table or memory limits: flags, minimum, optional maximum,
// optional page size (custom-page-sizes).
func (r *wasmReader) limits() {
	flags := r.byte()
	r.leb()
	if flags&0x01 != 0 {
		r.leb()
	}
	if flags&0x08 != 0 {
		r.leb()
	}
}
