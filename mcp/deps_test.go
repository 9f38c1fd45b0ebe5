package mcp_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The registry is a toolbox: it speaks package tool and must not import
// the runtime (the server face, which does, is mcp/mcpserver).
func TestRegistryDoesNotImportTheRuntime(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/caxton-go/caxton/mcp").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/caxton-go/caxton/tool")
	require.NotContains(t, deps, "github.com/caxton-go/caxton", "package mcp imports the root package")
	require.NotContains(t, deps, "github.com/caxton-go/caxton/mcp/mcpserver")
}
