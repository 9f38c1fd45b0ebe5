package caxton_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// maxRootDeps bounds the non-standard packages a program that imports only
// the root package compiles (BENCHMARKS.md, "A light import"): wasmtime-go,
// the OpenTelemetry API and little else. Durability (store/durable), tools
// (mcp) and everything heavy are opted into by importing their packages.
const maxRootDeps = 30

func TestRootImportStaysLight(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/caxton-go/caxton").CombinedOutput()
	require.NoError(t, err, "%s", out)
	var third []string
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, "github.com/caxton-go/caxton") {
			third = append(third, p)
		}
	}
	require.LessOrEqualf(t, len(third), maxRootDeps,
		"importing the root package compiles %d non-standard packages (limit %d):\n%s", len(third), maxRootDeps, strings.Join(third, "\n"))
	for _, heavy := range []string{"pebble", "nats", "modelcontextprotocol", "prometheus", "grpc"} {
		for _, p := range third {
			require.NotContainsf(t, p, heavy, "the root package must not pull in %s", p)
		}
	}

	// net/http (with crypto/tls and x509) is a third of a cold build of a
	// program importing caxton (BENCHMARKS.md, "First run").
	out, err = exec.Command(goBin, "list", "-deps", "github.com/caxton-go/caxton").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.NotContains(t, deps, "net/http", "the root package must not compile net/http")

	// The script engines (1.3 MB together) are opted into with
	// WithJavaScript/WithPython: a program without scripts does not embed
	// them.
	for _, engine := range []string{"github.com/caxton-go/caxton/guest/js", "github.com/caxton-go/caxton/guest/python"} {
		require.NotContains(t, deps, engine, "the root package must not embed a script engine")
	}
}
