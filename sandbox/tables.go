package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
)

// A table the guest grows past maxTableElements is not a trap: the store's
// limiter makes table.grow return -1 (wasmtime-go v39 offers no callback),
// and the guest then fails however it fails. To report that as KindTable
// the host must see the table's size, and wasmtime shows only exported
// tables. So before compiling, exportTables gives every table the module
// defines but does not export an export of its own, named with this prefix
// (the guest cannot see it; nothing else changes). The rewrite touches the
// export section only, and a module it cannot read is compiled as it is.
const tableExportPrefix = "caxton:table:"

// exportTables returns wasm with an export added for each defined table
// that has none, or wasm itself when there is nothing to add or the module
// is not one it can read (wasmtime then says what is wrong with it).
func exportTables(wasm []byte) []byte {
	out, err := addTableExports(wasm)
	if err != nil || out == nil {
		return wasm
	}
	return out
}

var errUnreadable = errors.New("unreadable module")

func addTableExports(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errUnreadable // not a core module, version 1
	}
	r := &wasmReader{b: wasm, off: 8}
	imported, defined := uint32(0), uint32(0)
	exportStart, exportEnd := -1, -1
	var exportBody []byte
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
			imported = s.importedTables()
		case 4: // tables
			defined = s.u32()
		case 7: // exports
			exportStart, exportEnd, exportBody = start, r.off, body
		}
		if s.err != nil {
			return nil, s.err
		}
	}
	if defined == 0 || exportStart < 0 {
		return nil, nil
	}
	// Which tables are exported already, and which names are taken.
	s := &wasmReader{b: exportBody}
	n := s.u32()
	entries := s.off
	exported := map[uint32]bool{}
	names := map[string]bool{}
	for range n {
		name := s.bytes(s.u32())
		kind := s.byte()
		idx := s.u32()
		if s.err != nil {
			return nil, s.err
		}
		names[string(name)] = true
		if kind == 1 {
			exported[idx] = true
		}
	}
	if s.off != len(exportBody) {
		return nil, errUnreadable
	}
	var added []byte
	count := n
	for i := imported; i < imported+defined; i++ {
		name := tableExportPrefix + strconv.FormatUint(uint64(i), 10)
		if exported[i] || names[name] {
			continue
		}
		added = binary.AppendUvarint(added, uint64(len(name)))
		added = append(added, name...)
		added = append(added, 1) // a table
		added = binary.AppendUvarint(added, uint64(i))
		count++
	}
	if added == nil {
		return nil, nil
	}
	body := binary.AppendUvarint(nil, uint64(count))
	body = append(body, exportBody[entries:]...)
	body = append(body, added...)
	out := make([]byte, 0, len(wasm)+len(added)+8)
	out = append(out, wasm[:exportStart]...)
	out = append(out, 7)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	return append(out, wasm[exportEnd:]...), nil
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

// importedTables counts the tables among the imports (they come first in
// the table index space).
func (r *wasmReader) importedTables() uint32 {
	n, tables := r.u32(), uint32(0)
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
		case 0x04: // tag: attribute, type index
			r.byte()
			r.leb()
		default:
			r.err = errUnreadable
		}
		if r.err != nil {
			return 0
		}
	}
	return tables
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
