//go:build examples

// Run with go test -tags examples ./examples/... (CI does; see the README).

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpgradeExample(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	out := buf.String()
	for _, want := range []string{
		`client: got "quote v1: 100 EUR"`,
		`event:   quote upgrade started: v1 → v2, blue-green`,
		`event:   quote upgrade promoted: v1 → v2`,
		`host:    quote runs v2 (previous v1)`,
		`event:   quote upgrade started: v2 → v3, canary`,
		`host:    rolled back: the new version crashed (1)`,
		`dead-lettered=0`,
	} {
		assert.Contains(t, out, want)
	}
	// Every request was answered, by v1 or v2 — never by the bad v3.
	assert.NotContains(t, out, "v3: ")
	assert.Equal(t, strings.Count(out, "got "), strings.Count(out, "got \"quote v1")+strings.Count(out, "got \"quote v2"))
	t.Log("\n" + out)
}
