package caxton

import (
	"os"
	"path/filepath"
	"strings"
)

// WithJavaScript lets the runtime run JavaScript agents (WasmSpec.JavaScript,
// or a File named *.js) in engine, the interpreter guest that runs each
// agent's script inside the sandbox — normally the QuickJS engine of package
// github.com/caxton-go/caxton/guest/js:
//
//	rt, err := caxton.New(caxton.WithJavaScript(js.Engine()))
//
// The engine is opted into rather than built in so that a program that runs
// no scripts neither carries it (0.8 MB) nor compiles it. Without it,
// spawning a JavaScript agent fails with a *SpecError naming the field and
// this option. The bytes are not copied: do not modify them.
func WithJavaScript(engine []byte) Option {
	return func(cfg *config) error {
		if len(engine) == 0 {
			return specErr("WithJavaScript", "empty engine module")
		}
		cfg.engines.js = engine
		return nil
	}
}

// WithPython lets the runtime run Python agents (WasmSpec.Python, or a File
// named *.py) in engine, the interpreter guest that runs each agent's script
// inside the sandbox — normally the engine of package
// github.com/caxton-go/caxton/guest/python:
//
//	rt, err := caxton.New(caxton.WithPython(python.Engine()))
//
// The engine is opted into rather than built in so that a program that runs
// no Python neither carries it (0.5 MB) nor pays for compiling it (about a
// second of CPU on first use, before the sandbox's cache holds it).
// Without it, spawning a Python agent fails with a *SpecError naming the
// field and this option. The bytes are not copied: do not modify them.
func WithPython(engine []byte) Option {
	return func(cfg *config) error {
		if len(engine) == 0 {
			return specErr("WithPython", "empty engine module")
		}
		cfg.engines.py = engine
		return nil
	}
}

// scriptEngines are the interpreter guests a runtime was given for agents
// written as scripts (WithJavaScript, WithPython).
type scriptEngines struct {
	js, py []byte
}

// script returns the source of an agent written as a script in lang (".js"
// or ".py"): the engine that runs it, with the script as init data. A
// runtime without that engine fails with a *SpecError on field that says
// which option gives it one.
func (e scriptEngines) script(lang, field string, src []byte) (wasmSource, error) {
	engine, name, option, pkg := e.js, "JavaScript", "WithJavaScript(js.Engine())", "guest/js"
	if lang == ".py" {
		engine, name, option, pkg = e.py, "Python", "WithPython(python.Engine())", "guest/python"
	}
	if len(engine) == 0 {
		return wasmSource{}, specErr(field, "this runtime has no %s engine: pass caxton.%s to New (package github.com/caxton-go/caxton/%s)",
			name, option, pkg)
	}
	return wasmSource{code: engine, init: src}, nil
}

// wasmSource is what a WasmSpec asks the sandbox to run: a module, in the
// binary or the text format, and for a script agent the script, which is
// the interpreter guest's init data.
type wasmSource struct {
	code []byte
	text bool   // code is WebAssembly text
	init []byte // the script of a JavaScript or Python agent
}

// source resolves a WasmSpec to what to compile and what to hand each
// instance, naming the field that is wrong; engines run scripts.
func (w *WasmSpec) source(engines scriptEngines) (wasmSource, error) {
	set := 0
	for _, isSet := range []bool{len(w.Module) > 0, w.WAT != "", w.File != "", w.JavaScript != "", w.Python != ""} {
		if isSet {
			set++
		}
	}
	if set != 1 {
		return wasmSource{}, specErr("Wasm", "set exactly one of Module, WAT, File, JavaScript and Python")
	}
	switch {
	case len(w.Module) > 0:
		return wasmSource{code: w.Module}, nil
	case w.WAT != "":
		return wasmSource{code: []byte(w.WAT), text: true}, nil
	case w.JavaScript != "":
		return engines.script(".js", "Wasm.JavaScript", []byte(w.JavaScript))
	case w.Python != "":
		return engines.script(".py", "Wasm.Python", []byte(w.Python))
	}
	b, err := os.ReadFile(w.File)
	if err != nil {
		return wasmSource{}, specErr("Wasm.File", "%v", err)
	}
	switch ext := strings.ToLower(filepath.Ext(w.File)); ext {
	case ".wat":
		return wasmSource{code: b, text: true}, nil
	case ".js", ".py":
		if len(b) == 0 {
			return wasmSource{}, specErr("Wasm.File", "%s is empty", w.File)
		}
		return engines.script(ext, "Wasm.File", b)
	}
	return wasmSource{code: b}, nil
}

// fromContents returns a copy of w (which names a File) running contents,
// read from that file, in the form its name implies. Hot reload compiles
// exactly the bytes it compared: reading the file a second time could see
// a later write and make the same contents two versions.
func (w *WasmSpec) fromContents(contents []byte) *WasmSpec {
	c := *w
	c.File, c.Reload = "", 0
	switch strings.ToLower(filepath.Ext(w.File)) {
	case ".wat":
		c.WAT = string(contents)
	case ".js":
		c.JavaScript = string(contents)
	case ".py":
		c.Python = string(contents)
	default:
		c.Module = contents
	}
	return &c
}
