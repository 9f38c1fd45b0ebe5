// Package python is Caxton's Python agent support: the engine guest that
// runs an agent's script inside the sandbox, and its documentation (the
// agent API and the exact language subset are in README.md beside this
// file).
//
// A Python agent is a script, deployed like a module (on a runtime given
// this engine, see below):
//
//	caxton.AgentSpec{Name: "echo", Wasm: &caxton.WasmSpec{Python: src}}
//	caxton.AgentSpec{Name: "echo", Wasm: &caxton.WasmSpec{File: "agents/echo.py"}}
//
// The script defines a function handle(msg, ctx):
//
//	def handle(msg, ctx):
//	    ctx.log("echoing", msg.text)
//	    ctx.reply("inform", msg.text)
//
// The runtime runs it in MicroPython 1.9.2's core (C, built for WASI with
// clang-14 and wasi-libc from Debian's sources: package guest/python/micro,
// whose README says how its language differs from CPython's) compiled to a
// WebAssembly guest of 0.5 MB, checked in with its provenance. Every
// instance of the agent is a fresh sandbox instance of that engine (an idle
// one holds about 250 KiB), with the agent's limits (memory, batch
// deadline, fuel), its tool grant and no WASI capabilities unless granted;
// the script is the instance's init data (sandbox/ABI.md, "Init data"),
// compiled once per instance at start-up, so a script that does not load
// fails Spawn with the interpreter's message.
//
// A runtime runs Python agents only when given this engine, so that programs
// without them neither carry nor compile it:
//
//	rt, err := caxton.New(caxton.WithPython(python.Engine()))
//
// The engine can also be pre-compiled, or spawned through the sandbox
// package directly.
package python

import "github.com/caxton-go/caxton/guest/python/micro"

// Engine returns the Python engine guest module (Guest ABI v1 with the
// caxton_init export): micro.Engine(). The bytes are shared: do not modify
// them.
func Engine() []byte { return micro.Engine() }
