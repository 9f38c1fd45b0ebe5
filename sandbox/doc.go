// Package sandbox runs untrusted WebAssembly agents with wasmtime. Each
// guest instance lives in its own store, under resource limits, with WASI
// linked but granting nothing unless the host says so, and talks to the
// host through Guest ABI v1 (ABI.md in this directory): one call per batch
// of FIPA ACL messages, the guest's outbox read back after the call.
//
// The package imports acl, tool (the tool-call statuses it carries across
// the ABI) and the ABI codec in internal/abi only, and knows nothing of the
// runtime. Package caxton is its one user in this
// module: AgentSpec.Wasm (a caxton.WasmSpec) makes an agent a guest; the
// runtime creates one Engine on its first wasm agent, compiles the module
// at Spawn, instantiates it for every replica and every replacement after
// a crash, and adapts the Instance to its BatchHandler seam.
//
// # Engine, Module, Instance
//
// An Engine (NewEngine) compiles modules and runs the epoch ticker that
// enforces deadlines; it is safe for concurrent use, and is closed last.
//
// A Module is compiled code, checked once against the ABI: the required
// exports and their signatures, imports only from caxton and
// wasi_snapshot_preview1, a reactor rather than a WASI command. Compile
// takes the binary format; WebAssembly text is compiled only when asked
// for, with CompileText or CompileFile of a *.wat file, so garbage is
// reported as garbage rather than as a text syntax error. Modules are
// cached by content: in memory per engine (the same bytes compile once),
// and, with WithCacheDir, on disk as ahead-of-time artifacts shared between
// processes (a Go guest takes 1-2 s to compile and ~0.5 ms to load). Disk
// artifacts are sealed with a checksum, because wasmtime trusts them
// completely; a corrupt one is recompiled, never loaded.
//
// An Instance (Module.Instantiate) is one running guest in a fresh store:
// start-up (the start function, then _initialize) runs, the ABI version is
// checked, and then Handle runs one batch per call. An instance is used by
// one goroutine at a time; Close releases its store.
//
// # Snapshots
//
// An instance started with InstanceConfig.Snapshots can be saved between
// batches (Instance.Snapshot: the memory blocks that differ from the
// module's image after start-up, and the mutable globals, which the module
// rewrite exports) and put back into a new store (Module.Restore), without
// running start-up again: what a runtime uses to hibernate idle agents.
// Module.Snapshottable says why a module cannot be (a start function, a
// mutable global of a reference type, a module the host could not read).
//
// Engine.Preinitialize runs a module's start-up once and bakes its outcome
// into a new module (its memory as data segments, its globals'
// initialisers), so instances start by mapping that image instead of
// running start-up again — a Go guest's runtime initialisation, an
// interpreter's set-up and script.
//
// # Limits and grants
//
// Limits bound each instance: linear memory (MaxMemory), a wall-clock
// deadline per batch enforced by epoch interruption (start-up gets the
// same, or the context's deadline if sooner), optional fuel per batch, and
// the size of inbound and outbound messages and of the outbox. Tables are
// held to 100,000 elements and a module to four tables. Grants are the WASI
// capabilities (directories, environment, arguments); the zero value grants
// none. A guest's stdout and stderr go to the instance's logger, never to
// the host's own.
//
// # Errors
//
// A guest that cannot compile, start or handle a batch yields an *Error,
// which wraps ErrSandbox: the agent, a Kind, a one-line detail, the fuel
// used and, for a start-up cut short by its context, the context's error
// (Err). The kinds say what happened: KindInvalidModule (bytes that are not
// a module), KindABIViolation (a module or a call that breaks the ABI),
// KindDeadline, KindOutOfFuel, KindMemory, KindTable, KindStackOverflow,
// KindUnreachable, KindOutOfBounds and KindOther for traps, KindInitFailed
// for a guest that refuses its init data at start-up (an interpreter guest
// whose script does not load: ABI.md, "Init data"), and KindGuestFailed and
// KindGuestPermanent for a guest that reports its own failure. Broken says
// whether the instance must be replaced (every kind but the last two). Errors from Compile leave Agent empty, since a
// compiled module belongs to no agent; package caxton fills it in.
//
// Traps are classified by their message first, because wasmtime-go
// v39.0.1's TrapCode constants are off by one from OutOfFuel on. A refused
// memory.grow or table.grow is not a trap (the guest gets -1); a guest that
// then aborts with its memory or a table at the limit is reported as
// KindMemory or KindTable.
//
// # RUST_BACKTRACE
//
// If RUST_BACKTRACE or RUST_LIB_BACKTRACE is set to anything but 0 (an
// empty value counts as set), wasmtime captures a Rust backtrace for every
// error it returns, and the first one in a process loads and resolves the
// binary's symbols: up to 0.2-1 s and ~37 MB, depending on the binary
// (a small one took 40-150 ms and ~11 MB on the reference machine; a test
// binary whose symbols do not resolve, a few milliseconds). The backtraces
// never reach this package's errors, which are cut to one line either way;
// unset the variable, or set it to 0, where that cost matters.
package sandbox
