// Package micro is the Python engine (python.Engine returns it):
// MicroPython's core (1.9.2, a Python 3.4 subset in C, from Debian's
// firmware-microbit-micropython source package, pinned by hash in
// engine/micropython.lock) built with clang-14 and wasi-libc into a
// WebAssembly guest, micropython.wasm, checked in with its provenance
// (engine/micropython.wasm.sum; make py-engine rebuilds it).
//
// It runs the agent API of package python (../README.md, the prelude in
// engine/prelude.py). An idle agent holds about 250 KiB, against the 3.5
// MiB of the gpython engine it replaced, because there is no Go runtime in
// the guest (BENCHMARKS.md, "Python engines"). Its language is
// MicroPython's (README.md in this directory says how it differs).
//
// WebAssembly without the exception-handling proposal cannot unwind its
// call stack, which MicroPython's exceptions need; engine/nlr.c builds setjmp,
// longjmp and the collector's root scan on Binaryen's Asyncify instead.
package micro

import _ "embed"

//go:embed engine/micropython.wasm
var engine []byte

// Engine returns the micro Python engine guest module (Guest ABI v1 with
// the caxton_init export: the agent's script is its init data). The bytes
// are shared: do not modify them.
func Engine() []byte { return engine }
