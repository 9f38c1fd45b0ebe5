package caxton

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/guest/python"
)

// wasmSource is what a WasmSpec asks the sandbox to run: a module, in the
// binary or the text format, and for a script agent the script, which is
// the interpreter guest's init data.
type wasmSource struct {
	code []byte
	text bool   // code is WebAssembly text
	init []byte // the script of a JavaScript or Python agent
}

// source resolves a WasmSpec to what to compile and what to hand each
// instance, naming the field that is wrong.
func (w *WasmSpec) source() (wasmSource, error) {
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
		return wasmSource{code: js.Engine(), init: []byte(w.JavaScript)}, nil
	case w.Python != "":
		return wasmSource{code: python.Engine(), init: []byte(w.Python)}, nil
	}
	b, err := os.ReadFile(w.File)
	if err != nil {
		return wasmSource{}, specErr("Wasm.File", "%v", err)
	}
	switch strings.ToLower(filepath.Ext(w.File)) {
	case ".wat":
		return wasmSource{code: b, text: true}, nil
	case ".js":
		if len(b) == 0 {
			return wasmSource{}, specErr("Wasm.File", "%s is empty", w.File)
		}
		return wasmSource{code: js.Engine(), init: b}, nil
	case ".py":
		if len(b) == 0 {
			return wasmSource{}, specErr("Wasm.File", "%s is empty", w.File)
		}
		return wasmSource{code: python.Engine(), init: b}, nil
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
