package sandbox

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tableExports compiles wasm after exportTables and lists its table exports.
func tableExports(t *testing.T, wasm []byte) []string {
	t.Helper()
	mod, err := wasmtime.NewModule(wasmtime.NewEngine(), exportTables(wasm))
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
		out := exportTables(g)
		mod, err := wasmtime.NewModule(eng, out)
		require.NoError(t, err, "the whole module still compiles")
		mod.Close()
		step := max(1, len(g)/500)
		for n := 0; n < len(g); n += step {
			out := exportTables(g[:n])
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
