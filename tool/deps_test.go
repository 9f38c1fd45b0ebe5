package tool_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Package tool must stay a leaf — the standard library and acl — on the
// host and on wasip1, where the guest SDK compiles it into every Go guest.
func TestToolIsALeaf(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	for _, env := range [][]string{nil, {"GOOS=wasip1", "GOARCH=wasm"}} {
		cmd := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/caxton-go/caxton/tool")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%v: %s", env, out)
		assert.ElementsMatch(t, []string{"github.com/caxton-go/caxton/acl", "github.com/caxton-go/caxton/tool"},
			strings.Fields(string(out)), "non-standard imports of package tool with %v", env)
	}
}
