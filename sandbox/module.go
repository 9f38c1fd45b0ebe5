//go:build cgo

package sandbox

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// Module is a compiled guest, checked against Guest ABI v1's exports and
// imports, ready to instantiate any number of times.
type Module struct {
	e     *Engine
	key   [32]byte
	mod   *wasmtime.Module
	init  bool // exports _initialize
	usesT bool // imports caxton.now
	usesL bool // imports caxton.log
	wasi  bool // imports wasi_snapshot_preview1
	// takesInit: exports caxton_init, so every instance is handed its
	// agent's init data (an interpreter guest's script) at start-up.
	takesInit bool
	// preinit: made by Engine.Preinitialize, so start-up has run (its
	// _initialize is renamed, and caxton_init is not called again).
	preinit bool
	// tables are the exports of the module's tables (its own, or those
	// exportHidden added), watched for the table limit.
	tables []string
	// globals are the exports of the module's mutable globals (its own,
	// or those exportHidden added), saved and restored by snapshots.
	globals []savedGlobal
	// noSnapshot says why an instance of the module cannot be snapshotted
	// ("" when it can).
	noSnapshot string
	// bases holds the memory images snapshots are taken against, one per
	// init data (see Snapshot).
	bases baseImages
	// abiChecked is set once an instance's caxton_abi_version returned the
	// host's version. The answer belongs to the code, not to an instance,
	// so later instances skip the call (a wasm call is ~5 µs of a ~25 µs
	// start).
	abiChecked atomic.Bool
}

// abiExports are the exports Guest ABI v1 requires, with their signatures.
var abiExports = map[string]string{
	"caxton_abi_version": "() -> (i32)",
	"caxton_alloc":       "(i32) -> (i32)",
	"caxton_handle":      "(i32, i32) -> (i64)",
}

// abiImports are the host functions a guest may import from module caxton.
var abiImports = map[string]string{
	"log":       "(i32, i32, i32) -> ()",
	"now":       "() -> (i64)",
	"tool_call": "(i32, i32, i32, i32, i32, i32) -> (i64)",
}

func newModule(e *Engine, key [32]byte, mod *wasmtime.Module) (*Module, error) {
	m := &Module{e: e, key: key, mod: mod}
	abiErr := func(format string, args ...any) error {
		return &Error{Kind: KindABIViolation, Detail: fmt.Sprintf(format, args...)}
	}
	found := map[string]bool{}
	command, stateSeen := false, false
	for _, ex := range mod.Exports() {
		name := ex.Name()
		switch {
		case name == "memory":
			mt := ex.Type().MemoryType()
			if mt == nil || mt.IsShared() || mt.Is64() {
				return nil, abiErr("export %q must be a plain (unshared, 32-bit) linear memory", name)
			}
			found[name] = true
		case ex.Type().TableType() != nil:
			m.tables = append(m.tables, name)
		case name == stateExported:
			stateSeen = ex.Type().MemoryType() != nil
		case name == preinitExported:
			m.preinit = ex.Type().MemoryType() != nil
		case ex.Type().GlobalType() != nil:
			gt := ex.Type().GlobalType()
			if !gt.Mutable() {
				continue
			}
			switch k := gt.Content().Kind(); k {
			case wasmtime.KindI32, wasmtime.KindI64, wasmtime.KindF32, wasmtime.KindF64:
				m.globals = append(m.globals, savedGlobal{name: name, kind: k})
			default:
				m.noSnapshot = fmt.Sprintf("its mutable global %q holds a %v, which a snapshot cannot save", name, k)
			}
		case name == "_initialize":
			m.init = ex.Type().FuncType() != nil
		case name == "_start":
			command = ex.Type().FuncType() != nil
		case name == initExport:
			ft := ex.Type().FuncType()
			if ft == nil || signature(ft) != initSignature {
				return nil, abiErr("export %s must be a function %s", name, initSignature)
			}
			m.takesInit = true
		case abiExports[name] != "":
			ft := ex.Type().FuncType()
			if ft == nil || signature(ft) != abiExports[name] {
				return nil, abiErr("export %s must be a function %s", name, abiExports[name])
			}
			found[name] = true
		}
	}
	if command && !m.init {
		// A WASI command expects _start to run once and the module to be
		// done; its exports cannot be called before (a Go command traps
		// with "unreachable" in caxton_abi_version) or after. This is the
		// usual mistake with toolchains whose default is a command.
		return nil, abiErr("this is a WASI command module (it exports _start and no _initialize), but an agent must be a reactor, " +
			"whose exports the host calls for every batch: build Go guests with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared, " +
			"C guests with -mexec-model=reactor")
	}
	if !stateSeen && m.noSnapshot == "" {
		m.noSnapshot = "it has a start function (which would run again), code that changes tables or drops segments " +
			"(state outside memory and globals), or code the host could not read"
	}
	for _, need := range []string{"memory", "caxton_abi_version", "caxton_alloc", "caxton_handle"} {
		if !found[need] {
			return nil, abiErr("missing required export %q", need)
		}
	}
	for _, im := range mod.Imports() {
		name := ""
		if n := im.Name(); n != nil {
			name = *n
		}
		switch im.Module() {
		case "caxton":
			want, ok := abiImports[name]
			ft := im.Type().FuncType()
			if !ok || ft == nil || signature(ft) != want {
				return nil, abiErr("unknown or mistyped import caxton.%s", name)
			}
			m.usesL = m.usesL || name == "log"
			m.usesT = m.usesT || name == "now"
		case "wasi_snapshot_preview1":
			m.wasi = true
		default:
			return nil, abiErr("import %s.%s: only modules caxton and wasi_snapshot_preview1 are provided", im.Module(), name)
		}
	}
	return m, nil
}

// TakesInitData reports whether the module exports caxton_init: it is
// then an interpreter (or another configurable guest) that gets
// InstanceConfig.Init at start-up, and fails to start without it if its
// caxton_init says so.
func (m *Module) TakesInitData() bool { return m.takesInit }

// signature renders a function type as "(i32, i32) -> (i64)".
func signature(ft *wasmtime.FuncType) string {
	kinds := func(vs []*wasmtime.ValType) string {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = v.Kind().String()
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return kinds(ft.Params()) + " -> " + kinds(ft.Results())
}
