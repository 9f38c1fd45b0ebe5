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

// exportFunc returns the function exported as name, or nil.
func exportFunc(st wasmtime.Storelike, wi *wasmtime.Instance, name string) *wasmtime.Func {
	x := wi.GetExport(st, name)
	if x == nil {
		return nil
	}
	defer x.Close()
	return x.Func()
}

// exportMemory returns the memory exported as name, or nil.
func exportMemory(st wasmtime.Storelike, wi *wasmtime.Instance, name string) *wasmtime.Memory {
	x := wi.GetExport(st, name)
	if x == nil {
		return nil
	}
	defer x.Close()
	return x.Memory()
}

// exportTable returns the table exported as name, or nil.
func exportTable(st wasmtime.Storelike, wi *wasmtime.Instance, name string) *wasmtime.Table {
	x := wi.GetExport(st, name)
	if x == nil {
		return nil
	}
	defer x.Close()
	return x.Table()
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
