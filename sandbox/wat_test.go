package sandbox_test

import (
	"fmt"
	"strings"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
)

// watGuest builds a WAT guest that implements the ABI's exports around a
// custom body for caxton_handle. Its allocator hands out memory from offset
// 65536 on, growing memory as needed.
func watGuest(extra, handleBody string) string {
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

// watData renders bytes as a WAT data string.
func watData(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		fmt.Fprintf(&sb, "\\%02x", c)
	}
	return sb.String()
}

// watOutbox returns a guest whose every batch emits msgs (a pre-encoded
// outbox in a data segment at offset 1024).
func watOutbox(msgs ...*acl.Message) string {
	out := abi.AppendBatch(nil, msgs)
	return watGuest(`(data (i32.const 1024) "`+watData(out)+`")`,
		fmt.Sprintf(`(i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const %d))`, len(out)))
}

var (
	watNop          = watGuest("", `(i64.const 0)`)
	watStatusFailed = watGuest("", `(i64.const -2)`)
	watStatusPerm   = watGuest("", `(i64.const -3)`)
	watStatusBad    = watGuest("", `(i64.const -1)`)
	watStatusOdd    = watGuest("", `(i64.const -9)`)
	watLoop         = watGuest("", `(loop $l (br $l)) (i64.const 0)`)
	watMemoryBomb   = watGuest("", `(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable`)
	watRecursion    = watGuest(`(func $deep (param i32) (result i32) (call $deep (i32.add (local.get 0) (i32.const 1))))`,
		`(drop (call $deep (i32.const 0))) (i64.const 0)`)
	watUnreachable = watGuest("", `unreachable`)
	watOutOfBounds = watGuest("", `(drop (i32.load (i32.const 0xfffffff0))) (i64.const 0)`)
	watDivZero     = watGuest("", `(drop (i32.div_u (i32.const 1) (i32.sub (global.get $calls) (global.get $calls)))) (i64.const 0)`)
	// trap on the 3rd call only
	watTrapThird = watGuest("", `(if (i32.eq (global.get $calls) (i32.const 3)) (then unreachable)) (i64.const 0)`)
	// outbox claims 5000 messages
	watHugeOutbox = watGuest(`(data (i32.const 1024) "\88\13\00\00")`,
		`(i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const 4))`)
	// outbox points past the end of memory
	watOutboxOutside = watGuest("", `(i64.or (i64.shl (i64.const 0x7ffffff0) (i64.const 32)) (i64.const 64))`)
	// outbox is garbage
	watMalformed = watGuest(`(data (i32.const 1024) "\01\00\00\00\ff\ff\00\00")`,
		`(i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const 8))`)
	watWrongVersion = strings.Replace(watNop, `(result i32) (i32.const 1))`, `(result i32) (i32.const 2))`, 1)
	watNoHandle     = strings.Replace(watNop, `(export "caxton_handle")`, ``, 1)
	watBadImport    = watGuest(`(import "env" "evil" (func))`, `(i64.const 0)`)
	watLogs         = watGuest(`(import "caxton" "log" (func $log (param i32 i32 i32)))
  (import "caxton" "now" (func $now (result i64)))`,
		`(call $log (i32.const 4) (i32.const 2048) (i32.const 14))
    (i64.store (i32.const 3000) (call $now))
    (i64.const 0)`)
	watLogsData = strings.Replace(watLogs, `(func (export "caxton_handle")`, `(data (i32.const 2048) "hello from wat") (func (export "caxton_handle")`, 1)
)
