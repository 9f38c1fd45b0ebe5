// Package conformance is the cross-language conformance suite of Caxton's
// guest SDKs: every guest language's agents must behave the same under the
// host. A language plugs in by listing its agents in Languages (one entry,
// one Agent per role); the tests in this package run every behaviour for
// every language:
//
//   - every ACL field round-trips through the guest (Mirror),
//   - messages are handled and answered in order, state survives across
//     batches (Echo, Counter),
//   - a message the agent does not understand is rejected alone, and one
//     too large for the sandbox is rejected by the host without failing the
//     batch (Worker),
//   - a failure worth retrying is retried, a permanent one dead-lettered at
//     once (Probe),
//   - tool calls granted and denied, log capture, and the memory, deadline
//     and fuel limits contained with the agent serving on (Probe),
//   - one Contract Net round with a bidder in every language, each winning
//     in turn (Bidder).
//
// An Agent returns the caxton.WasmSpec to deploy; the suite adds the
// limits, grants and tools a behaviour needs, so a language whose agents
// are not plain modules fits the same table: JavaScript and Python agents
// are scripts (Script, PythonScript), run by their engine guests.
package conformance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/internal/testguest"
)

// Agent gives the code of one agent, failing tb if it cannot.
type Agent func(tb testing.TB) caxton.WasmSpec

// Language is one guest language's agents, a role each. The roles' contracts
// (what the suite sends and expects) are the same in every language; the
// sources of guest/rust/agents, guest/c/agents and
// guest/assemblyscript/agents describe them in full.
type Language struct {
	Name string

	// Echo answers every message with an inform carrying the same content,
	// to reply-to, else the sender.
	Echo Agent
	// Counter answers each message with an inform whose content is the
	// count of messages so far, in decimal, kept for the instance's life.
	Counter Agent
	// Worker answers a request with an inform "done:" + content, and any
	// other performative with not-understood.
	Worker Agent
	// Mirror sends every message back as it came (to reply-to, else the
	// sender), every field it can set copied, and what it cannot set in
	// params: X-Sender, X-Id (the UUID's text), X-Created-At (Unix
	// nanoseconds, 0 if unset), X-Receivers (comma-separated).
	Mirror Agent
	// Probe does what the content says and answers inform: "fail" fails
	// (retry), "fatal" fails permanently, "log:TEXT" logs TEXT at info and
	// answers "logged", "tool:NAME:ARGS" calls host tool NAME with the JSON
	// ARGS and answers "STATUS:RESULT", "grow:N" allocates and keeps N MiB
	// (trapping when memory runs out) and answers "grew", "spin" loops
	// forever, anything else is answered "ok:" + content.
	Probe Agent
	// Bidder takes part in Contract Net: a call's content is a task
	// {"name":…,"kind":"text"|"video","size":N}; it proposes {"cost":
	// RATE×size} (RATE from the granted environment, default 1), refuses
	// video without GPU=yes, and answers an accepted proposal with an
	// inform whose content starts with "<name>: ".
	Bidder Agent
}

// Languages lists every guest language the suite checks.
func Languages() []Language {
	return []Language{
		{
			Name:    "go",
			Echo:    GoGuest("echo"),
			Counter: GoGuest("counter"),
			Worker:  GoGuest("worker"),
			Mirror:  GoGuest("mirror"),
			Probe:   GoGuest("probe"),
			Bidder:  File("examples/marketplace/bidder/bidder.wasm"),
		},
		sdkLanguage("c", "guest/c/agents"),
		sdkLanguage("rust", "guest/rust/agents"),
		sdkLanguage("assemblyscript", "guest/assemblyscript/agents"),
		{
			Name:    "javascript",
			Echo:    Script("guest/js/agents/echo.js"),
			Counter: Script("guest/js/agents/counter.js"),
			Worker:  Script("guest/js/agents/worker.js"),
			Mirror:  Script("guest/js/agents/mirror.js"),
			Probe:   Script("guest/js/agents/probe.js"),
			Bidder:  Script("guest/js/agents/bidder.js"),
		},
		{
			Name:    "python",
			Echo:    PythonScript("guest/python/agents/echo.py"),
			Counter: PythonScript("guest/python/agents/counter.py"),
			Worker:  PythonScript("guest/python/agents/worker.py"),
			Mirror:  PythonScript("guest/python/agents/mirror.py"),
			Probe:   PythonScript("guest/python/agents/probe.py"),
			Bidder:  PythonScript("guest/python/agents/bidder.py"),
		},
	}
}

// Script is a JavaScript agent checked in as a script (run by the engine
// guest, see WasmSpec.JavaScript): path is slash-separated, relative to
// the module root.
func Script(path string) Agent {
	return script(path, func(src string) caxton.WasmSpec { return caxton.WasmSpec{JavaScript: src} })
}

// PythonScript is a Python agent checked in as a script (run by the
// Python engine guest, see WasmSpec.Python): path is slash-separated,
// relative to the module root.
func PythonScript(path string) Agent {
	return script(path, func(src string) caxton.WasmSpec { return caxton.WasmSpec{Python: src} })
}

// script reads the script at path (relative to the module root) when the
// agent is wanted and deploys it as spec says.
func script(path string, spec func(src string) caxton.WasmSpec) Agent {
	return func(tb testing.TB) caxton.WasmSpec {
		tb.Helper()
		b, err := os.ReadFile(filepath.Join(testguest.ModuleRoot(), filepath.FromSlash(path)))
		if err != nil {
			tb.Fatalf("conformance: %v", err)
		}
		return spec(string(b))
	}
}

// sdkLanguage is a language whose agents are checked-in modules named after
// their roles in dir.
func sdkLanguage(name, dir string) Language {
	f := func(role string) Agent { return File(dir + "/" + role + ".wasm") }
	return Language{Name: name, Echo: f("echo"), Counter: f("counter"), Worker: f("worker"),
		Mirror: f("mirror"), Probe: f("probe"), Bidder: f("bidder")}
}

// File is an agent checked in as a module: path is slash-separated,
// relative to the module root.
func File(path string) Agent {
	return func(tb testing.TB) caxton.WasmSpec {
		tb.Helper()
		b, err := os.ReadFile(filepath.Join(testguest.ModuleRoot(), filepath.FromSlash(path)))
		if err != nil {
			tb.Fatalf("conformance: %v", err)
		}
		return caxton.WasmSpec{Module: b}
	}
}

// GoGuest is a Go guest of the tests (sandbox/testdata/goguests/NAME),
// built when first needed (see package testguest).
func GoGuest(name string) Agent {
	return func(tb testing.TB) caxton.WasmSpec {
		tb.Helper()
		return caxton.WasmSpec{Module: testguest.Build(tb, name)}
	}
}
