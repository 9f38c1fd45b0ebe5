//go:build wasip1

package guest

import (
	"unsafe"

	"github.com/caxton-go/caxton/internal/abi"
)

// The wasm exports and host imports of Guest ABI v1; everything else in
// the package builds on every platform.

func init() { agent.host = wasmHost{} }

// inbound is the buffer the host copies batches into.
var inbound []byte

//go:wasmimport caxton log
func hostLog(level int32, ptr unsafe.Pointer, n int32)

//go:wasmimport caxton now
func hostNow() int64

//go:wasmimport caxton tool_call
func hostToolCall(name unsafe.Pointer, nameLen int32, args unsafe.Pointer, argsLen int32, out unsafe.Pointer, outCap int32) int64

type wasmHost struct{}

func (wasmHost) toolCall(name string, args, out []byte) (uint8, int) {
	r := hostToolCall(unsafe.Pointer(unsafe.StringData(name)), int32(len(name)),
		unsafe.Pointer(unsafe.SliceData(args)), int32(len(args)),
		unsafe.Pointer(unsafe.SliceData(out)), int32(len(out)))
	return uint8(r >> 32), int(uint32(r))
}

func (wasmHost) log(level int32, msg string) {
	if len(msg) == 0 {
		return
	}
	hostLog(level, unsafe.Pointer(unsafe.StringData(msg)), int32(len(msg)))
}

func (wasmHost) now() int64 { return hostNow() }

//go:wasmexport caxton_abi_version
func abiVersion() int32 { return abi.Version }

//go:wasmexport caxton_alloc
func alloc(size int32) int32 {
	if size <= 0 {
		return 0
	}
	if int(size) > cap(inbound) {
		inbound = make([]byte, size)
	}
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(inbound[:cap(inbound)]))))
}

//go:wasmexport caxton_handle
func handle(ptr, n int32) int64 {
	if n < 0 || ptr == 0 && n > 0 {
		return abi.StatusBadInput
	}
	batch := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(ptr))), int(n))
	out, status := agent.handle(batch)
	if status != 0 {
		return status
	}
	if len(out) == 0 {
		return 0
	}
	return int64(uintptr(unsafe.Pointer(unsafe.SliceData(out))))<<32 | int64(len(out))
}
