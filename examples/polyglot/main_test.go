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

// Every bidder answers, so the round ends on the last answer, not on a
// clock; the transcript is the same on a loaded machine as on an idle one.
func TestPolyglot(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	out := buf.String()
	for _, want := range []string{
		"go:            proposes 12.00",
		"go-wasm:       proposes 14.40",
		"js:            proposes 9.00",
		"rust:          proposes 10.80",
		"python:        proposes 13.20",
		"js:            won and reports: quarterly-report: 12 units done by a JavaScript agent for 9.00",
		"go:            my 12.00 bid was rejected: another proposal was chosen",
		`js-clerk:      inform {"ticket":1,"filed":"done:quarterly-report: 12 units done by a JavaScript agent for 9.00"}`,
		"customer:      done: one conversation (order-7), agents in Go, Go in the sandbox, Rust, JavaScript, Python and C",
	} {
		assert.Contains(t, out, want)
	}
	assert.Equal(t, 11, strings.Count(out, "\n"), out)
}
