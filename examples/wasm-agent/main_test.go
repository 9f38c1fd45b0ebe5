//go:build examples

// Run with go test -tags examples ./examples/... (CI does; see the README).

package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeploysTheCEchoAgent(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, "../../guest/c/agents/echo.wasm", "hi there", 5*time.Second))
	assert.Contains(t, out.String(), `asked "hi there", got inform: "hi there"`)
}

func TestReportsAMissingFile(t *testing.T) {
	var out bytes.Buffer
	err := run(&out, "no-such.wasm", "x", time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such.wasm")
}
