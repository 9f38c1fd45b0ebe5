package contractnet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
)

// BenchmarkRound100 measures one whole Contract Net round, end to end on a
// real-clock runtime: a call to 100 native participants, their 100
// proposals, the selection, one accept and 99 rejects, and the winner's
// inform-result. Every participant answers, so no deadline is waited for.
//
//	go test -run XXX -bench Round100 -benchtime 2s -count 3 ./contractnet/
func BenchmarkRound100(b *testing.B) {
	const participants = 100
	ctx := context.Background()
	rt, err := caxton.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rt.Close(ctx) })
	for i := range participants {
		name := acl.AgentID(fmt.Sprintf("p%03d", i))
		cost := float64((i*37)%participants + 1)
		err := rt.Spawn(ctx, caxton.AgentSpec{Name: name, Capabilities: []string{"haul"},
			Handler: caxton.ProtocolHandler(&contractnet.Participant{
				Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
					return contractnet.Offer{Cost: cost}, nil
				},
				Execute: func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
					return []byte("hauled"), nil
				},
			})})
		if err != nil {
			b.Fatal(err)
		}
	}
	ib, err := rt.NewInbox("auctioneer")
	if err != nil {
		b.Fatal(err)
	}
	cl := protocol.NewClient(ib)
	b.Cleanup(func() { _ = cl.Close() })
	in := &contractnet.Initiator{Client: cl, Directory: rt}

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		cfp := acl.New(acl.CFP, contractnet.Capability("haul"))
		cfp.Content = []byte(`{"from":"Oslo","to":"Bergen"}`)
		cfp.ReplyBy = time.Now().Add(time.Minute)
		res, err := in.Run(ctx, cfp)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Rounds[0].Proposals) != participants || len(res.Outcomes) != 1 || res.Outcomes[0].Status != contractnet.Informed {
			b.Fatalf("incomplete round: %d proposals, outcomes %+v", len(res.Rounds[0].Proposals), res.Outcomes)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rounds/s")
}
