package caxton_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The script engines are opted into (a program without scripts neither
// carries nor compiles them): a script agent on a runtime without its
// engine is refused with a *SpecError on the field that asked for it,
// saying which option gives the runtime the engine.
func TestScriptAgentsNeedTheirEngine(t *testing.T) {
	dir := t.TempDir()
	file := func(name string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("# a script\n"), 0o600))
		return p
	}
	tests := []struct {
		name   string
		wasm   caxton.WasmSpec
		field  string
		option string
	}{
		{"JavaScript source", caxton.WasmSpec{JavaScript: "function handle(msg, ctx) {}"}, "Wasm.JavaScript", "caxton.WithJavaScript(js.Engine())"},
		{"Python source", caxton.WasmSpec{Python: "def handle(msg, ctx):\n    pass\n"}, "Wasm.Python", "caxton.WithPython(python.Engine())"},
		{"a .js file", caxton.WasmSpec{File: file("agent.js")}, "Wasm.File", "caxton.WithJavaScript(js.Engine())"},
		{"a .PY file", caxton.WasmSpec{File: file("agent.PY")}, "Wasm.File", "caxton.WithPython(python.Engine())"},
	}
	rt := caxtontest.NewRuntime(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rt.Spawn(t.Context(), caxton.AgentSpec{Name: "scripted", Wasm: &tt.wasm})
			require.ErrorIs(t, err, caxton.ErrInvalidSpec)
			var se *caxton.SpecError
			require.True(t, errors.As(err, &se), "%v", err)
			assert.Equal(t, tt.field, se.Field)
			assert.Contains(t, se.Reason, tt.option)
		})
	}
}

func TestScriptEngineOptionsRefuseNoEngine(t *testing.T) {
	for name, opt := range map[string]caxton.Option{
		"WithJavaScript": caxton.WithJavaScript(nil),
		"WithPython":     caxton.WithPython([]byte{}),
	} {
		_, err := caxton.New(opt)
		var se *caxton.SpecError
		require.True(t, errors.As(err, &se), "%s: %v", name, err)
		assert.Equal(t, name, se.Field)
	}
}
