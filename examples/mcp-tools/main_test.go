//go:build examples

// Run with go test -tags examples ./examples/... (CI does; see the README).

package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary be the example's weather MCP server, as the
// example's own binary is when run with go run.
func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) == "1" {
		if err := serveWeather(context.Background()); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestMCPToolsExample(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(context.Background(), &buf))
	out := buf.String()
	for _, want := range []string{
		"tool fx                 from host",
		"tool weather/forecast   from weather",
		"→ inform: Oslo: light snow, -2 °C; 120.00 EUR is 1392.00 NOK",
		"→ inform: Lisbon: sunny, 19 °C; 300.00 NOK is 25.86 EUR",
		`→ failure: weather: tool "weather/forecast": tool error: no forecast for "Atlantis"`,
		"→ refuse: admin/wipe: denied:",
		"travel-agent called weather/forecast → ok",
		"travel-agent called fx               → ok",
		"travel-agent called admin/wipe       → denied",
	} {
		assert.Contains(t, out, want)
	}
	t.Log("\n" + out)
}
