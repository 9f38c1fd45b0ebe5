//go:build bench

// Run with go test -tags bench ./bench/... (CI does; see the README).

package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunsWithAFewAgents(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, 50, "../../guest/c/agents/echo.wasm"))
	assert.Contains(t, out.String(), "agents=50 ")
	assert.Contains(t, out.String(), "rss_delta=")
	if _, err := os.Stat("/proc/self/smaps_rollup"); err == nil {
		assert.Contains(t, out.String(), "private_per_agent=")
	}
}

func TestRunsWithAFewNativeAgents(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, 50, ""))
	assert.Contains(t, out.String(), "agents=50 ")
	assert.Contains(t, out.String(), "heap_per_agent_spawned=")
	assert.Contains(t, out.String(), "spawn_rate=")
}

func TestParseRollup(t *testing.T) {
	const rollup = `55d4c0a00000-7ffd1e5f7000 ---p 00000000 00:00 0                          [rollup]
Rss:               10240 kB
Pss:                4096 kB
Pss_Anon:           4000 kB
Shared_Clean:        100 kB
Shared_Dirty:       6000 kB
Private_Clean:       140 kB
Private_Dirty:      4000 kB
Anonymous:          4096 kB
`
	tests := []struct {
		name    string
		in      string
		want    memory
		wantErr string
	}{
		{"full", rollup, memory{rss: 10240 << 10, pss: 4096 << 10, private: 4140 << 10, shared: 6100 << 10, shares: true}, ""},
		{"no pss", "Rss:  10 kB\n", memory{}, "no Rss or Pss"},
		{"bad number", "Rss:  x kB\nPss: 1 kB\n", memory{}, "Rss:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRollup(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
