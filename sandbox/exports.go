//go:build cgo

package sandbox

import "github.com/bytecodealliance/wasmtime-go/v39"

// wasmtime-go wraps every export it hands out in an Extern with a
// finalizer. Left to the garbage collector, those pile up (several per
// spawn, one per host call that looked up memory) and the Go runtime's
// finalizer bookkeeping, a sorted list per heap span, became a tenth of a
// C agent's spawn CPU (pprof of BenchmarkWasmSpawn). What is taken out of
// an Extern (a Func, Memory or Table) is a handle copied from it, so these
// helpers close the Extern at once.

// export returns what take makes of the instance's export name (a Func,
// Memory or Table handle; nil when take finds another kind), or nil if
// there is no such export. For example export(st, wi, "memory",
// (*wasmtime.Extern).Memory).
func export[T any](st wasmtime.Storelike, wi *wasmtime.Instance, name string, take func(*wasmtime.Extern) *T) *T {
	x := wi.GetExport(st, name)
	if x == nil {
		return nil
	}
	defer x.Close()
	return take(x)
}

// callerMemory returns the calling instance's memory: the one Instantiate
// took, or, in a host call from the module's start function (before
// Instantiate has it), the caller's "memory" export; nil if it has none.
func callerMemory(c *wasmtime.Caller, in *Instance) *wasmtime.Memory {
	if in.mem != nil {
		return in.mem
	}
	x := c.GetExport("memory")
	if x == nil {
		return nil
	}
	defer x.Close()
	return x.Memory()
}
