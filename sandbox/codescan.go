package sandbox

// stateOutsideMemory reports whether a module's code (the body of its
// code section) uses an instruction that changes state a snapshot does not
// save: a table's contents (table.set, table.init, table.copy, table.fill;
// a snapshot restores tables from the element segments) or which segments
// are dropped (data.drop, elem.drop; a restored instance has them all
// again). It also reports true for code it cannot read to the end (an
// unknown instruction, a GC instruction): such a module is not
// snapshotted, which is safe, rather than snapshotted wrongly.
func stateOutsideMemory(code []byte) bool {
	r := &wasmReader{b: code}
	n := r.u32()
	for range n {
		body := r.bytes(r.u32())
		if r.err != nil {
			return true
		}
		if functionMutatesState(body) {
			return true
		}
	}
	return r.err != nil || r.off != len(r.b)
}

// functionMutatesState reads one function body (its locals, then its
// instructions) looking for the instructions stateOutsideMemory names.
func functionMutatesState(body []byte) bool {
	r := &wasmReader{b: body}
	for range r.u32() { // local declarations: a count and a type each
		r.u32()
		r.valType()
		if r.err != nil {
			return true
		}
	}
	for r.off < len(r.b) && r.err == nil {
		switch op := r.byte(); {
		case op == 0x26: // table.set
			return true
		case op <= 0x01, op == 0x05, op == 0x0b, op == 0x0f, op == 0x0a, op == 0x19, op == 0x1a, op == 0x1b, op == 0xd1, op == 0xd3, op == 0xd4:
			// no immediates: unreachable, nop, else, end, return, throw_ref,
			// catch_all, drop, select, ref.is_null, ref.eq, ref.as_non_null
		case op >= 0x02 && op <= 0x04, op == 0x06: // block, loop, if, try
			r.blockType()
		case op >= 0x07 && op <= 0x09, op == 0x0c, op == 0x0d, op == 0x10, op == 0x12, op == 0x14, op == 0x15, op == 0x18,
			op >= 0x20 && op <= 0x25, op == 0x3f, op == 0x40, op == 0xd2, op == 0xd5, op == 0xd6:
			// one index: catch, throw, rethrow, br, br_if, call, return_call,
			// call_ref, return_call_ref, delegate, local/global get/set/tee,
			// table.get, memory.size, memory.grow, ref.func, br_on_null,
			// br_on_non_null
			r.u32()
		case op == 0x0e: // br_table
			for range r.u32() {
				r.u32()
			}
			r.u32()
		case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select t*
			for range r.u32() {
				r.valType()
			}
		case op == 0x1f: // try_table
			r.blockType()
			for range r.u32() {
				if kind := r.byte(); kind <= 1 {
					r.u32() // the tag
				}
				r.u32() // the label
			}
		case op >= 0x28 && op <= 0x3e: // loads and stores
			r.memArg()
		case op == 0x41, op == 0x42: // i32.const, i64.const
			r.leb()
		case op == 0x43: // f32.const
			r.bytes(4)
		case op == 0x44: // f64.const
			r.bytes(8)
		case op >= 0x45 && op <= 0xc4: // numeric
		case op == 0xd0: // ref.null
			r.leb()
		case op == 0xfc:
			switch sub := r.u32(); {
			case sub <= 7: // saturating truncations
			case sub == 9, sub == 13, sub == 12, sub == 14, sub == 17: // data.drop, elem.drop, table.init, table.copy, table.fill
				return true
			case sub == 8: // memory.init: segment, memory
				r.u32()
				r.u32()
			case sub == 10: // memory.copy
				r.u32()
				r.u32()
			case sub == 11, sub == 15, sub == 16: // memory.fill, table.grow, table.size
				r.u32()
			default:
				return true
			}
		case op == 0xfd:
			switch sub := r.u32(); {
			case sub <= 11, sub == 92, sub == 93: // loads, stores, load32/64_zero
				r.memArg()
			case sub == 12, sub == 13: // v128.const, i8x16.shuffle
				r.bytes(16)
			case sub >= 21 && sub <= 34: // extract and replace lane
				r.byte()
			case sub >= 84 && sub <= 91: // load and store lane
				r.memArg()
				r.byte()
			}
		case op == 0xfe: // threads
			if r.u32() == 3 { // atomic.fence
				r.byte()
			} else {
				r.memArg()
			}
		default: // GC (0xfb) and anything unknown
			return true
		}
	}
	return r.err != nil
}

// valType skips a value type: one byte, or a reference type with a heap
// type.
func (r *wasmReader) valType() {
	if t := r.byte(); t == 0x63 || t == 0x64 {
		r.leb()
	}
}

// blockType skips a block type: empty (0x40), a value type, or a type
// index (an s33).
func (r *wasmReader) blockType() {
	if r.off < len(r.b) && (r.b[r.off] == 0x63 || r.b[r.off] == 0x64) {
		r.valType()
		return
	}
	r.leb()
}

// memArg skips a memory argument: alignment (with bit 6, a memory index
// follows) and offset.
func (r *wasmReader) memArg() {
	if align := r.u32(); align&0x40 != 0 {
		r.u32()
	}
	r.leb()
}
