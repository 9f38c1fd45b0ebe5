package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMarketplace(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	out := buf.String()
	for _, want := range []string{
		// Task one: the wasm bidder wins and delivers.
		"auctioneer: ← beta proposes 96.00",
		"auctioneer: ← gamma refuses: fully booked this week",
		"auctioneer:    delta has not answered by the deadline",
		"auctioneer: → accept beta",
		"auctioneer: → reject alpha: another proposal was chosen",
		"auctioneer: ← beta reports: index-catalog: 120 units done in the sandbox for 96.00",
		"auctioneer: index-catalog: asked 5, 3 proposals, 1 refusals, 1 silent at the deadline",
		"auctioneer: index-catalog: won by beta, succeeded",
		"auctioneer: ← delta proposes 12.00 too late: rejected",
		"delta:     my 12.00 bid was rejected: late",
		// Task two: the wasm bidder without a GPU refuses; alpha wins and fails.
		"auctioneer: ← beta refuses: no GPU in this sandbox",
		"auctioneer: ← epsilon proposes 44.00",
		"auctioneer: → accept alpha",
		"auctioneer: ← alpha failed: GPU ran out of memory",
		"auctioneer: render-trailer: won by alpha, failed: GPU ran out of memory",
		"auctioneer: ← delta proposes 4.00 too late: rejected",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "!!", "no protocol violations or unreachable bidders")
	t.Log("\n" + out)
}
