package sandbox

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tableExports compiles wasm after exportHidden and lists its table exports.
func tableExports(t *testing.T, wasm []byte) []string {
	t.Helper()
	mod, err := wasmtime.NewModule(wasmtime.NewEngine(), exportHidden(wasm))
	require.NoError(t, err)
	defer mod.Close()
	var names []string
	for _, ex := range mod.Exports() {
		if ex.Type().TableType() != nil {
			names = append(names, ex.Name())
		}
	}
	return names
}

func TestExportTablesExportsHiddenTablesOnly(t *testing.T) {
	tests := []struct {
		name string
		wat  string
		want []string
	}{
		{"no table", `(module (func (export "f")))`, nil},
		{"no exports", `(module (table 1 funcref))`, nil},
		{"hidden table", `(module (table 1 funcref) (func (export "f")))`, []string{"caxton:table:0"}},
		{"exported table", `(module (table (export "t") 1 funcref))`, []string{"t"}},
		{"both", `(module (table (export "t") 1 funcref) (table 2 externref) (func (export "f")))`, []string{"t", "caxton:table:1"}},
		{"after an imported table", `(module (import "env" "t" (table 1 funcref)) (import "env" "m" (memory 1 2))
			(import "env" "g" (global (mut i64))) (import "env" "f" (func)) (table 3 funcref) (func (export "f")))`,
			[]string{"caxton:table:1"}},
		{"name taken", `(module (table 1 funcref) (func (export "caxton:table:0")))`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tableExports(t, testguest.WATBinary(t, tc.wat)))
		})
	}
}

// hiddenGlobals compiles wasm after exportHidden and lists the exports of
// its globals and whether it says all its state is exported.
func hiddenGlobals(t *testing.T, wasm []byte) (globals []string, all bool) {
	t.Helper()
	mod, err := wasmtime.NewModule(wasmtime.NewEngine(), exportHidden(wasm))
	require.NoError(t, err)
	defer mod.Close()
	for _, ex := range mod.Exports() {
		if ex.Type().GlobalType() != nil {
			globals = append(globals, ex.Name())
		}
		all = all || ex.Name() == stateExported
	}
	return globals, all
}

func TestExportHiddenExportsMutableGlobals(t *testing.T) {
	tests := []struct {
		name string
		wat  string
		want []string
		all  bool
	}{
		{"none", `(module (memory 1) (func (export "f")))`, nil, true},
		{"no memory", `(module (global (mut i32) (i32.const 0)) (func (export "f")))`, []string{"caxton:global:0"}, false},
		{"constants stay hidden", `(module (memory 1) (global i32 (i32.const 1)) (global (mut i64) (i64.const 2)) (func (export "f")))`,
			[]string{"caxton:global:1"}, true},
		{"exported already", `(module (memory 1) (global (export "g") (mut f32) (f32.const 1)) (global (mut f64) (f64.const 1)) (func (export "f")))`,
			[]string{"g", "caxton:global:1"}, true},
		{"after an imported global", `(module (import "env" "g" (global i32)) (memory 1)
			(global (mut i32) (i32.add (global.get 0) (i32.const 1))) (func (export "f")))`, []string{"caxton:global:1"}, true},
		{"a start function", `(module (memory 1) (global (mut i32) (i32.const 0)) (func $s) (start $s) (func (export "f")))`,
			[]string{"caxton:global:0"}, false},
		{"name taken", `(module (memory 1) (global (mut i32) (i32.const 0)) (func (export "caxton:global:0")))`, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, all := hiddenGlobals(t, testguest.WATBinary(t, tc.wat))
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.all, all)
		})
	}
}

// The rewrite never breaks a module: for real guests (the C agents, a WAT
// guest with a hidden table) and their prefixes, it does not panic, and
// what compiled before still compiles after.
func TestExportTablesLeavesWhatItCannotReadAlone(t *testing.T) {
	guests := [][]byte{testguest.WATBinary(t, testguest.WATTableBomb)}
	files, err := filepath.Glob(filepath.Join(testguest.ModuleRoot(), "guest", "c", "agents", "*.wasm"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		guests = append(guests, b)
	}
	eng := wasmtime.NewEngine()
	for _, g := range guests {
		out := exportHidden(g)
		mod, err := wasmtime.NewModule(eng, out)
		require.NoError(t, err, "the whole module still compiles")
		mod.Close()
		step := max(1, len(g)/500)
		for n := 0; n < len(g); n += step {
			out := exportHidden(g[:n])
			if len(out) == n {
				continue
			}
			// The prefix ends on a section boundary: if it is a module,
			// so is the rewrite.
			if m, err := wasmtime.NewModule(eng, g[:n]); err == nil {
				m.Close()
				m, err := wasmtime.NewModule(eng, out)
				if assert.NoError(t, err, "prefix of %d bytes", n) {
					m.Close()
				}
			}
		}
	}
}

// The rewrite never panics on any bytes, and it is idempotent: what it
// adds it has exported, so a second pass adds nothing.
func FuzzExportHidden(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testguest.ModuleRoot(), "guest", "c", "agents", "*.wasm"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, err := addHiddenExports(wasm)
		if err != nil || out == nil {
			return
		}
		again, err := addHiddenExports(out)
		if err != nil {
			t.Fatalf("the rewritten module cannot be read again: %v", err)
		}
		if again != nil {
			t.Fatalf("a second pass added %d bytes", len(again)-len(out))
		}
	})
}

// Every guest the project ships can be snapshotted: the code scan finds
// nothing that changes state outside memory and globals in them.
func TestShippedGuestsKeepTheirStateInMemory(t *testing.T) {
	var files []string
	for _, dir := range []string{"guest/c/agents", "guest/rust/agents", "guest/assemblyscript/agents", "guest/js/engine", "guest/python/micro/engine", "guest/python/engine"} {
		more, err := filepath.Glob(filepath.Join(testguest.ModuleRoot(), dir, "*.wasm"))
		require.NoError(t, err)
		files = append(files, more...)
	}
	require.NotEmpty(t, files)
	guests := map[string][]byte{"go counter": testguest.Build(t, "counter")}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		guests[filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f)] = b
	}
	for name, wasm := range guests {
		sh, err := readShape(wasm)
		require.NoError(t, err, name)
		assert.False(t, sh.outside, "%s: the scan says its code changes state outside memory", name)
	}
}

func TestCodeThatChangesTablesOrSegmentsIsSeen(t *testing.T) {
	tests := map[string]struct {
		wat     string
		outside bool
	}{
		"plain":        {`(func (export "f") (result i32) (i32.add (i32.const 1) (i32.const 2)))`, false},
		"memory ops":   {`(memory 1) (data $d "x") (func (export "f") (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1)) (memory.fill (i32.const 0) (i32.const 0) (i32.const 1)) (memory.copy (i32.const 0) (i32.const 1) (i32.const 1)))`, false},
		"simd":         {`(memory 1) (func (export "f") (result i32) (i32x4.extract_lane 1 (v128.load offset=16 (i32.const 0))))`, false},
		"table.set":    {`(table 1 funcref) (func (export "f") (table.set (i32.const 0) (ref.null func)))`, true},
		"table.fill":   {`(table 1 funcref) (func (export "f") (table.fill (i32.const 0) (ref.null func) (i32.const 1)))`, true},
		"table.copy":   {`(table 2 funcref) (func (export "f") (table.copy (i32.const 0) (i32.const 1) (i32.const 1)))`, true},
		"table.init":   {`(table 1 funcref) (elem $e func $f) (func $f (export "f") (table.init $e (i32.const 0) (i32.const 0) (i32.const 1)))`, true},
		"data.drop":    {`(memory 1) (data $d "x") (func (export "f") (data.drop $d))`, true},
		"elem.drop":    {`(table 1 funcref) (elem $e func $f) (func $f (export "f") (elem.drop $e))`, true},
		"in a block":   {`(table 1 funcref) (func (export "f") (param i32) (block (loop (br_if 1 (local.get 0)) (table.set (i32.const 0) (ref.null func)))))`, true},
		"after a loop": {`(table 1 funcref) (func (export "f") (param i32) (block (br_table 0 0 (local.get 0))) (table.set (i32.const 0) (ref.null func)))`, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sh, err := readShape(testguest.WATBinary(t, `(module `+tc.wat+`)`))
			require.NoError(t, err)
			assert.Equal(t, tc.outside, sh.outside)
		})
	}
}

// A module claiming millions of tables in a few bytes is not rewritten
// (each table would get an export): wasmtime refuses it as it is.
func TestATableCountBombIsNotRewritten(t *testing.T) {
	count := binary.AppendUvarint(nil, 8<<20)
	wasm := append([]byte("\x00asm\x01\x00\x00\x00\x04"), byte(len(count)))
	wasm = append(wasm, count...)
	wasm = append(wasm, 7, 1, 0)
	out, err := addHiddenExports(wasm)
	assert.ErrorIs(t, err, errUnreadable)
	assert.Nil(t, out)
	assert.Equal(t, wasm, exportHidden(wasm))
}
