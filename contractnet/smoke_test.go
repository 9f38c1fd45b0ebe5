package contractnet_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	for i, cost := range []float64{5, 3, 9} {
		cost := cost
		rt.MustSpawn(caxton.AgentSpec{Name: acl.AgentID("bidder" + string(rune('a'+i))), Capabilities: []string{"haul"},
			Handler: caxton.ProtocolHandler(&contractnet.Participant{
				Bid: func(ctx context.Context, cfp *acl.Message) (contractnet.Offer, error) {
					return contractnet.Offer{Cost: cost}, nil
				},
				Execute: func(ctx context.Context, cfp, acc *acl.Message, o contractnet.Offer) ([]byte, error) {
					return []byte("hauled"), nil
				},
			})})
	}
	rt.MustSpawn(caxton.AgentSpec{Name: "refuser", Capabilities: []string{"haul"},
		Handler: caxton.ProtocolHandler(&contractnet.Participant{
			Bid: func(ctx context.Context, cfp *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{}, protocol.Refuse("busy")
			}})})
	ib, err := rt.NewInbox("auctioneer")
	require.NoError(t, err)
	cl := protocol.NewClient(ib)
	defer cl.Close()
	in := &contractnet.Initiator{Client: cl, Directory: rt.Runtime}
	cfp := acl.New(acl.CFP, contractnet.Capability("haul"))
	cfp.ReplyBy = rt.Clock.Now().Add(time.Second)
	res, err := in.Run(caxtontest.Context(t), cfp)
	require.NoError(t, err)
	require.Len(t, res.Rounds, 1)
	require.Len(t, res.Rounds[0].Proposals, 3)
	require.Equal(t, "busy", res.Rounds[0].Refused["refuser"])
	require.Len(t, res.Outcomes, 1)
	require.Equal(t, acl.AgentID("bidderb"), res.Outcomes[0].Participant)
	require.Equal(t, contractnet.Informed, res.Outcomes[0].Status)
	require.Equal(t, "hauled", string(res.Outcomes[0].Result()))
}
