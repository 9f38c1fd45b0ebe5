//go:build examples

// Run with go test -tags examples ./examples/... (CI does; see the README).

package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstart(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	out := buf.String()
	for _, want := range []string{
		`front-desk: routing "where is my refund for invoice 42?" to billing`,
		`customer:  got inform: "your refund was issued today"`,
		`technical: could not answer "the app shows error 500" (attempt 1): knowledge base timed out`,
		`customer:  got inform: "clear the cache and restart the app"`,
		`customer:  got inform: "the pro plan is 20 EUR a month"`,
		`front-desk: routing "is my pro laptop under warranty?" to warranty`,
		`customer:  got inform: "pro devices: 24 months, including accidental damage"`,
		`billing:   noted inform: "maintenance tonight at 22:00"`,
		`technical: noted inform: "maintenance tonight at 22:00"`,
		`sales:     noted inform: "maintenance tonight at 22:00"`,
		`host:      heard announcement "maintenance tonight at 22:00"`,
		`host:      dead letter for sales after 3 attempts (max attempts): legacy quote system is down`,
		`host:      technical  processed=2 failed=1 retried=1 dead-lettered=0`,
		`host:      sales      processed=2 failed=3 retried=2 dead-lettered=1`,
	} {
		assert.Contains(t, out, want)
	}
	t.Log("\n" + out)
}
