//go:build examples

// Run with go test -tags examples ./examples/... (CI does; see the README).

package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/caxton-go/caxton/clock"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The demo runs on a fake clock here: the test moves time to each
// auction's deadline only when the in-time bidders have answered, and on to
// the late bid only when the deadline has been noted, so the transcript is
// the same on a loaded machine as on an idle one.
func TestMarketplace(t *testing.T) {
	var buf bytes.Buffer
	fc := clock.NewFake(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	answers, silent := make(chan struct{}, 16), make(chan struct{}, 16)
	cfg := config{clock: fc, onEvent: func(e contractnet.Event) {
		switch e.Kind {
		case contractnet.EventPropose, contractnet.EventRefuse:
			answers <- struct{}{}
		case contractnet.EventSilent:
			silent <- struct{}{}
		}
	}}
	done := make(chan error, 1)
	go func() { done <- runWith(&buf, cfg) }()
	for range 2 { // two auctions: four of five bidders answer in time
		for range 4 {
			recvWithin(t, answers)
		}
		fc.Advance(deadline) // the deadline: delta has not answered
		recvWithin(t, silent)
		fc.Advance(lateBy) // delta's late proposal
	}
	require.NoError(t, recvWithin(t, done))
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

// recvWithin receives from ch or fails the test after a generous bound
// (a safety net, not a timing assumption).
func recvWithin[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatal("the demo stalled")
		panic("unreachable")
	}
}
