package testguest

import (
	"fmt"
	"strings"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
)

// WATGuest builds a WAT guest that implements the ABI's exports around a
// custom body for caxton_handle. Its allocator hands out memory from offset
// 65536 on, growing memory as needed.
func WATGuest(extra, handleBody string) string {
	return `(module
  ` + extra + `
  (memory (export "memory") 2)
  (global $calls (mut i32) (i32.const 0))
  (func (export "caxton_abi_version") (result i32) (i32.const 1))
  (func (export "caxton_alloc") (param $n i32) (result i32)
    (local $pages i32)
    (local.set $pages (i32.add (i32.shr_u (local.get $n) (i32.const 16)) (i32.const 1)))
    (if (i32.lt_u (memory.size) (i32.add (local.get $pages) (i32.const 1)))
      (then (drop (memory.grow (local.get $pages)))))
    (i32.const 65536))
  (func (export "caxton_handle") (param $ptr i32) (param $len i32) (result i64)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    ` + handleBody + `))`
}

// WATData renders bytes as a WAT data string.
func WATData(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		fmt.Fprintf(&sb, "\\%02x", c)
	}
	return sb.String()
}

// WATOutbox returns a guest whose every batch emits msgs (a pre-encoded
// outbox in a data segment at offset 1024).
func WATOutbox(msgs ...*acl.Message) string {
	out := abi.AppendBatch(nil, msgs)
	return WATGuest(`(data (i32.const 1024) "`+WATData(out)+`")`,
		fmt.Sprintf(`(i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const %d))`, len(out)))
}

// Guests written in WebAssembly text, most of them hostile; each is named
// for what its caxton_handle does.
var (
	WATNop          = WATGuest("", `(i64.const 0)`)
	WATStatusFailed = WATGuest("", `(i64.const -2)`)
	WATStatusPerm   = WATGuest("", `(i64.const -3)`)
	WATStatusBad    = WATGuest("", `(i64.const -1)`)
	WATStatusOdd    = WATGuest("", `(i64.const -9)`)
	WATLoop         = WATGuest("", `(loop $l (br $l)) (i64.const 0)`)
	WATMemoryBomb   = WATGuest("", `(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable`)
	// grows a table it does not export until refused, then aborts
	WATTableBomb = WATGuest(`(table $t 10 funcref)`,
		`(loop $l (br_if $l (i32.ne (table.grow $t (ref.null func) (i32.const 1000)) (i32.const -1)))) unreachable`)
	// a table over the limit from the start
	WATHugeTable = WATGuest(`(table 1000000 funcref)`, `(i64.const 0)`)
	WATRecursion = WATGuest(`(func $deep (param i32) (result i32) (call $deep (i32.add (local.get 0) (i32.const 1))))`,
		`(drop (call $deep (i32.const 0))) (i64.const 0)`)
	WATUnreachable = WATGuest("", `unreachable`)
	WATOutOfBounds = WATGuest("", `(drop (i32.load (i32.const 0xfffffff0))) (i64.const 0)`)
	WATDivZero     = WATGuest("", `(drop (i32.div_u (i32.const 1) (i32.sub (global.get $calls) (global.get $calls)))) (i64.const 0)`)
	// trap on the 3rd call only
	WATTrapThird = WATGuest("", `(if (i32.eq (global.get $calls) (i32.const 3)) (then unreachable)) (i64.const 0)`)
	// outbox claims 5000 messages
	WATHugeOutbox = WATGuest(`(data (i32.const 1024) "\88\13\00\00")`,
		`(i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const 4))`)
	// outbox points past the end of memory
	WATOutboxOutside = WATGuest("", `(i64.or (i64.shl (i64.const 0x7ffffff0) (i64.const 32)) (i64.const 64))`)
	// outbox is garbage
	WATMalformed = WATGuest(`(data (i32.const 1024) "\01\00\00\00\ff\ff\00\00")`,
		`(i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const 8))`)
	WATWrongVersion = strings.Replace(WATNop, `(result i32) (i32.const 1))`, `(result i32) (i32.const 2))`, 1)
	WATNoHandle     = strings.Replace(WATNop, `(export "caxton_handle")`, ``, 1)
	WATBadImport    = WATGuest(`(import "env" "evil" (func))`, `(i64.const 0)`)
	WATLogs         = WATGuest(`(import "caxton" "log" (func $log (param i32 i32 i32)))
  (import "caxton" "now" (func $now (result i64)))`,
		`(call $log (i32.const 4) (i32.const 2048) (i32.const 14))
    (i64.store (i32.const 3000) (call $now))
    (i64.const 0)`)
	WATLogsData = strings.Replace(WATLogs, `(func (export "caxton_handle")`, `(data (i32.const 2048) "hello from wat") (func (export "caxton_handle")`, 1)
)
