//go:build wasip1

// Command bidder is the marketplace's sandboxed bidder: a Go program
// compiled to WebAssembly that takes part in Contract Net with the same
// contractnet.Participant a native agent uses. Its rate and whether it has
// a GPU come from environment variables the host grants (RATE, GPU), so one
// module serves several bidders.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/examples/marketplace/task"
	"github.com/caxton-go/caxton/guest"
	"github.com/caxton-go/caxton/protocol"
)

func init() {
	rate, err := strconv.ParseFloat(os.Getenv("RATE"), 64)
	if err != nil {
		rate = 1
	}
	gpu := os.Getenv("GPU") == "yes"
	guest.Handle(guest.Respond(&contractnet.Participant{
		Bid: func(_ context.Context, cfp *acl.Message) (contractnet.Offer, error) {
			t, err := task.Parse(cfp.Content)
			if err != nil {
				return contractnet.Offer{}, protocol.NotUnderstood(err.Error())
			}
			if t.Kind == "video" && !gpu {
				return contractnet.Offer{}, protocol.Refuse("no GPU in this sandbox")
			}
			return contractnet.Offer{Cost: rate * t.Size}, nil
		},
		Execute: func(_ context.Context, cfp, _ *acl.Message, o contractnet.Offer) ([]byte, error) {
			t, err := task.Parse(cfp.Content)
			if err != nil {
				return nil, err // cannot happen: the bid parsed it
			}
			return []byte(fmt.Sprintf("%s: %.0f units done in the sandbox for %.2f", t.Name, t.Size, o.Cost)), nil
		},
	}))
}

func main() {}
