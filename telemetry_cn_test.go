package caxton_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/contractnet/cntrace"
	"github.com/caxton-go/caxton/protocol"
	"github.com/caxton-go/caxton/telemetry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// A Contract Net round is one span: the calls for proposals are sent inside
// it (so the bidders' handling is in its trace), and each answer is a child
// span linked to the answer's own send span.
func TestTelemetryContractNetRoundIsOneSpan(t *testing.T) {
	o := newObserved(t)
	ctx := caxtontest.Context(t)
	bidder := func(cost float64) caxton.Handler {
		return caxton.ProtocolHandler(&contractnet.Participant{
			Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
				if cost < 0 {
					return contractnet.Offer{}, protocol.Refuse("busy")
				}
				return contractnet.Offer{Cost: cost}, nil
			},
			Execute: func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
				return []byte("done"), nil
			},
		})
	}
	o.MustSpawn(caxton.AgentSpec{Name: "cheap", Handler: bidder(1)})
	o.MustSpawn(caxton.AgentSpec{Name: "dear", Handler: bidder(9)})
	o.MustSpawn(caxton.AgentSpec{Name: "busy", Handler: bidder(-1)})
	ib, err := o.NewInbox("auctioneer")
	require.NoError(t, err)
	client := protocol.NewClient(ib)
	defer client.Close()
	in := &contractnet.Initiator{Client: client, Tracer: cntrace.Tracer(o.tp)}
	cfp := acl.New(acl.CFP, "cheap", "dear", "busy")
	cfp.ReplyBy = o.Clock.Now().Add(time.Minute)
	res, err := in.Run(ctx, cfp)
	require.NoError(t, err)
	require.Len(t, res.Succeeded(), 1)
	// Wait for what is asserted below: the round's span, and each bidder's
	// handling span (a bidder ends its span after sending its answer, so
	// the round can end first).
	caxtontest.Eventually(t, func() bool {
		ended := map[string]int{}
		for _, s := range o.spans.Ended() {
			ended[kind(s)]++
		}
		return ended["contract-net"] == 1 && ended["process cfp"] == 3
	}, "the negotiation span and the three bidders' spans to end")

	round := o.span(t, "contract-net", telemetry.KeyConversationID, res.ConversationID, 0)
	assert.Equal(t, "auctioneer", attr(round, telemetry.KeySender))
	assert.Equal(t, "3", attr(round, telemetry.KeyAsked))
	assert.Equal(t, "2", attr(round, telemetry.KeyProposals))
	assert.Equal(t, "1", attr(round, telemetry.KeyWinners))
	assert.Equal(t, "1", attr(round, telemetry.KeySucceeded))

	byParent := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range o.spans.Ended() {
		byParent[s.Parent().SpanID().String()] = append(byParent[s.Parent().SpanID().String()], s)
	}
	children := map[string]int{}
	for _, s := range byParent[round.SpanContext().SpanID().String()] {
		children[kind(s)]++
		assert.Equal(t, round.SpanContext().TraceID(), s.SpanContext().TraceID())
		if s.Name() == "contract-net propose" {
			require.Len(t, s.Links(), 1, "an answer links to the bidder's send span")
			assert.Equal(t, round.SpanContext().TraceID(), s.Links()[0].SpanContext.TraceID())
		}
	}
	assert.Equal(t, 3, children["send cfp"], "the fan-out is inside the round")
	assert.Equal(t, 2, children["contract-net propose"])
	assert.Equal(t, 1, children["contract-net refuse"])
	assert.Equal(t, 1, children["contract-net result"])
	assert.Equal(t, 1, children["send accept-proposal"])
	assert.Equal(t, 1, children["send reject-proposal"])
	for _, send := range byParent[round.SpanContext().SpanID().String()] {
		if kind(send) != "send cfp" {
			continue
		}
		bidder := attr(send, telemetry.KeyDestination)
		assert.Equal(t, "send "+bidder, send.Name(), "a send span is named after its destination")
		procs := byParent[send.SpanContext().SpanID().String()]
		require.Len(t, procs, 1, "each call is handled by its bidder in the same trace")
		assert.Equal(t, "process "+bidder, procs[0].Name())
	}
}

// kind is a messaging span's operation and performative ("send cfp"), or
// another span's name: messaging spans are named after their destination.
func kind(s sdktrace.ReadOnlySpan) string {
	if op := attr(s, telemetry.KeyOperationName); op != "" {
		return op + " " + attr(s, telemetry.KeyPerformative)
	}
	return s.Name()
}
