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
// The runtime runs it in gpython (github.com/go-python/gpython v0.2.0, a
// Python 3.4 interpreter written in Go; no CPython for WASI can be had from
// the registries this project builds from) compiled with the Go guest SDK
// into a WebAssembly guest (engine/), checked in with its provenance
// (engine/pyengine.wasm.sum). Every instance of the agent is a fresh
// sandbox instance of that engine, with the agent's limits (memory, batch
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

import _ "embed"

//go:generate go run github.com/caxton-go/caxton/cmd/caxton-guest build -o engine/pyengine.wasm ./engine

//go:embed engine/pyengine.wasm
var engine []byte

// Engine returns the Python engine guest module (Guest ABI v1 with the
// caxton_init export). The bytes are shared: do not modify them.
func Engine() []byte { return engine }
