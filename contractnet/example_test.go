package contractnet_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
)

// Three carriers bid to move a load; the cheapest wins and reports.
func Example() {
	ctx := context.Background()
	rt, err := caxton.New()
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	for name, price := range map[acl.AgentID]float64{"fjord-freight": 420, "bergen-bulk": 380, "oslo-express": 510} {
		carrier := &contractnet.Participant{
			Bid: func(ctx context.Context, cfp *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{Cost: price}, nil
			},
			Execute: func(ctx context.Context, cfp, accept *acl.Message, offer contractnet.Offer) ([]byte, error) {
				return fmt.Appendf(nil, "%s moved %s for %.0f", name, cfp.Content, offer.Cost), nil
			},
		}
		err := rt.Spawn(ctx, caxton.AgentSpec{Name: name, Capabilities: []string{"transport"},
			Handler: caxton.ProtocolHandler(carrier)})
		if err != nil {
			panic(err)
		}
	}
	err = rt.Spawn(ctx, caxton.AgentSpec{Name: "cyclist", Capabilities: []string{"transport"},
		Handler: caxton.ProtocolHandler(&contractnet.Participant{
			Bid: func(ctx context.Context, cfp *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{}, protocol.Refuse("too heavy")
			},
		})})
	if err != nil {
		panic(err)
	}

	ib, _ := rt.NewInbox("shipper")
	client := protocol.NewClient(ib)
	defer client.Close()
	shipper := &contractnet.Initiator{Client: client, Directory: rt, Select: contractnet.LowestCost(1)}

	cfp := acl.New(acl.CFP, contractnet.Capability("transport"))
	cfp.Content = []byte("12 pallets")
	cfp.ReplyBy = rt.Clock().Now().Add(5 * time.Second) // everyone answers well before
	res, err := shipper.Run(ctx, cfp)
	if err != nil {
		panic(err)
	}

	r := res.Rounds[0]
	var bids []string
	for _, p := range r.Proposals {
		o, _ := p.Offer()
		bids = append(bids, fmt.Sprintf("%s %.0f", p.From, o.Cost))
	}
	slices.Sort(bids)
	fmt.Println("bids:", bids)
	fmt.Println("refused:", r.Refused)
	w := res.Outcomes[0]
	fmt.Printf("%s: %s: %s\n", w.Participant, w.Status, w.Result())
	// Output:
	// bids: [bergen-bulk 380 fjord-freight 420 oslo-express 510]
	// refused: map[cyclist:too heavy]
	// bergen-bulk: informed: bergen-bulk moved 12 pallets for 380
}
