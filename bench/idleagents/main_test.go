package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunsWithAFewAgents(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, 50, "../../guest/c/agents/echo.wasm"))
	assert.Contains(t, out.String(), "agents=50 ")
	assert.Contains(t, out.String(), "rss_delta=")
}

func TestRunsWithAFewNativeAgents(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, 50, ""))
	assert.Contains(t, out.String(), "agents=50 ")
	assert.Contains(t, out.String(), "heap_per_agent_spawned=")
	assert.Contains(t, out.String(), "spawn_rate=")
}
