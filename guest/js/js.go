// Package js is Caxton's JavaScript agent support: the engine guest that
// runs an agent's script inside the sandbox, and its documentation (the
// agent API is in README.md beside this file).
//
// A JavaScript agent is a script, deployed like a module (on a runtime
// given this engine, see below):
//
//	caxton.AgentSpec{Name: "echo", Wasm: &caxton.WasmSpec{JavaScript: src}}
//	caxton.AgentSpec{Name: "echo", Wasm: &caxton.WasmSpec{File: "agents/echo.js"}}
//
// The script defines a global function handle(msg, ctx):
//
//	function handle(msg, ctx) {
//	  ctx.log('echoing', msg.text);
//	  ctx.reply('inform', msg.text);
//	}
//
// The runtime runs it in QuickJS (2021-03-27, built for WASI with clang
// and wasi-libc: engine/) compiled to a WebAssembly guest of about 0.7 MB,
// which is checked in with its provenance (engine/jsengine.wasm.sum). Every
// instance of the agent is a fresh sandbox instance of that engine, with
// the agent's limits (memory, batch deadline, fuel), its tool grant and no
// WASI capabilities unless granted; the script is the instance's init data
// (sandbox/ABI.md, "Init data"), compiled once per instance at start-up, so
// a script that does not load fails Spawn with the engine's message.
//
// A runtime runs JavaScript agents only when given this engine, so that programs
// without them neither carry nor compile it:
//
//	rt, err := caxton.New(caxton.WithJavaScript(js.Engine()))
//
// The engine can also be pre-compiled, or spawned through the sandbox
// package directly.
package js

import _ "embed"

//go:embed engine/jsengine.wasm
var engine []byte

// Engine returns the JavaScript engine guest module (Guest ABI v1 with the
// caxton_init export). The bytes are shared: do not modify them.
func Engine() []byte { return engine }
