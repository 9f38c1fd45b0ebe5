// Command marketplace auctions tasks with Contract Net. An auctioneer (host
// code on an inbox) calls for proposals from every agent advertising the
// "compute" capability — three native agents and two sandboxed wasm agents
// built from one Go guest — with a deadline. One bidder always refuses, one
// always bids too late and is rejected for it, the cheapest in-time bid
// wins; the first winner delivers and the second fails. The output shows
// the negotiation step by step.
//
//	go run ./examples/marketplace
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/clock"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/examples/marketplace/task"
	"github.com/caxton-go/caxton/protocol"
	"github.com/caxton-go/caxton/sandbox"
)

// deadline is how long bidders have to propose. It is generous for a
// machine under load; in-time bids arrive within milliseconds.
const deadline = 500 * time.Millisecond

// The wasm bidder is a Go program compiled to WebAssembly, checked in beside
// its source with a provenance file (bidder.wasm.sum); after changing it or
// the SDK, rebuild it with go generate (or make guests).
//
//go:generate go run github.com/caxton-go/caxton/cmd/caxton-guest build -o bidder/bidder.wasm ./bidder
//go:embed bidder/bidder.wasm
var bidderWasm []byte

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "marketplace:", err)
		os.Exit(1)
	}
}

// transcript prints lines from many goroutines without interleaving them.
type transcript struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *transcript) say(who acl.AgentID, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%-10s %s\n", who+":", fmt.Sprintf(format, args...))
}

// native is a bidder in Go with a rate per work unit; fail makes its
// execution fail for a kind of task.
func native(out *transcript, name acl.AgentID, rate float64, failOn string) *contractnet.Participant {
	return &contractnet.Participant{
		Bid: func(_ context.Context, cfp *acl.Message) (contractnet.Offer, error) {
			t, err := task.Parse(cfp.Content)
			if err != nil {
				return contractnet.Offer{}, protocol.NotUnderstood(err.Error())
			}
			return contractnet.Offer{Cost: rate * t.Size}, nil
		},
		Execute: func(_ context.Context, cfp, _ *acl.Message, o contractnet.Offer) ([]byte, error) {
			t, _ := task.Parse(cfp.Content) // it parsed when bidding
			out.say(name, "working on %s for %.2f", t.Name, o.Cost)
			if t.Kind == failOn {
				return nil, errors.New("GPU ran out of memory")
			}
			return []byte(t.Name + " delivered"), nil
		},
		Rejected: func(_ context.Context, m *acl.Message, o contractnet.Offer) {
			out.say(name, "my %.2f bid was rejected: %s", o.Cost, m.Content)
		},
	}
}

// late is a bidder that is always too slow: it answers 20 ms after the
// deadline (by the runtime's clock), and tells done when its bid has been
// rejected.
func late(out *transcript, clk clock.Clock, done chan<- string) *contractnet.Participant {
	return &contractnet.Participant{
		Bid: func(ctx context.Context, cfp *acl.Message) (contractnet.Offer, error) {
			t, err := task.Parse(cfp.Content)
			if err != nil {
				return contractnet.Offer{}, protocol.NotUnderstood(err.Error())
			}
			think := clk.NewTimer(cfp.ReplyBy.Sub(clk.Now()) + lateBy) // think too long
			defer think.Stop()
			select {
			case <-think.C():
			case <-ctx.Done():
				return contractnet.Offer{}, ctx.Err()
			}
			return contractnet.Offer{Cost: 0.1 * t.Size}, nil // the cheapest, if only it were in time
		},
		Execute: func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
			return nil, errors.New("never accepted")
		},
		Rejected: func(_ context.Context, m *acl.Message, o contractnet.Offer) {
			out.say("delta", "my %.2f bid was rejected: %s", o.Cost, m.Content)
			done <- string(m.Content)
		},
	}
}

// lateBy is how long after the deadline delta answers.
const lateBy = 20 * time.Millisecond

func run(w io.Writer) error { return runWith(w, config{}) }

// config lets a test drive time: main runs on the real clock, the test on
// a fake one it advances when the in-time answers are in, so a loaded
// machine cannot make an in-time bidder late.
type config struct {
	clock   clock.Clock             // the runtime's (nil: real time)
	onEvent func(contractnet.Event) // sees every negotiation step after it is narrated
}

func runWith(w io.Writer, cfg config) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := &transcript{w: w}

	opts := []caxton.Option{}
	if cfg.clock != nil {
		opts = append(opts, caxton.WithClock(cfg.clock))
	}
	rt, err := caxton.New(opts...)
	if err != nil {
		return err
	}
	defer rt.Close(ctx)

	wasmBidder := func(env map[string]string) *caxton.WasmSpec {
		return &caxton.WasmSpec{Module: bidderWasm, Grants: sandbox.Grants{Env: env}}
	}
	lateDone := make(chan string, 2)
	capable := []string{"compute"}
	agents := []caxton.AgentSpec{
		{Name: "alpha", Capabilities: capable, Handler: caxton.ProtocolHandler(native(out, "alpha", 1.0, "video"))},
		{Name: "beta", Capabilities: capable, Wasm: wasmBidder(map[string]string{"RATE": "0.8"})},
		{Name: "gamma", Capabilities: capable, Handler: caxton.ProtocolHandler(&contractnet.Participant{
			Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{}, protocol.Refuse("fully booked this week")
			}})},
		{Name: "delta", Capabilities: capable, Handler: caxton.ProtocolHandler(late(out, rt.Clock(), lateDone))},
		{Name: "epsilon", Capabilities: capable, Wasm: wasmBidder(map[string]string{"RATE": "1.1", "GPU": "yes"})},
	}
	for _, spec := range agents {
		if err := rt.Spawn(ctx, spec); err != nil {
			return err
		}
	}

	ib, err := rt.NewInbox("auctioneer")
	if err != nil {
		return err
	}
	client := protocol.NewClient(ib)
	defer client.Close()
	auctioneer := &contractnet.Initiator{
		Client:        client,
		Directory:     rt,
		Select:        contractnet.LowestCost(1),
		ResultTimeout: 5 * time.Second,
		OnEvent: func(e contractnet.Event) {
			narrate(out, e)
			if cfg.onEvent != nil {
				cfg.onEvent(e)
			}
		},
	}

	for _, t := range []task.Task{
		{Name: "index-catalog", Kind: "text", Size: 120},
		{Name: "render-trailer", Kind: "video", Size: 40},
	} {
		out.say("auctioneer", "auctioning %s (%s, %.0f units) to everyone with the compute capability", t.Name, t.Kind, t.Size)
		cfp := acl.New(acl.CFP, contractnet.Capability("compute"))
		cfp.Content, cfp.Language = t.Encode(), "json"
		cfp.ReplyBy = rt.Clock().Now().Add(deadline)
		res, err := auctioneer.Run(ctx, cfp)
		if err != nil {
			return err
		}
		summarize(out, t, res)
		// delta's late bid is rejected whenever it arrives — during the
		// auction or after it; wait for that before the next task.
		select {
		case <-lateDone:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// narrate prints one step of a negotiation.
func narrate(out *transcript, e contractnet.Event) {
	offer := func() string {
		if o, err := contractnet.ParseOffer(e.Message.Content); err == nil {
			return fmt.Sprintf("%.2f", o.Cost)
		}
		return fmt.Sprintf("%q", e.Message.Content)
	}
	switch e.Kind {
	case contractnet.EventCall:
		out.say("auctioneer", "→ cfp to %s", e.Participant)
	case contractnet.EventPropose:
		out.say("auctioneer", "← %s proposes %s", e.Participant, offer())
	case contractnet.EventRefuse:
		out.say("auctioneer", "← %s refuses: %s", e.Participant, e.Reason)
	case contractnet.EventSilent:
		out.say("auctioneer", "   %s has not answered by the deadline", e.Participant)
	case contractnet.EventLate, contractnet.EventAfterEnd:
		if e.Message.Performative == acl.Propose {
			out.say("auctioneer", "← %s proposes %s too late: rejected", e.Participant, offer())
		}
	case contractnet.EventAccept:
		out.say("auctioneer", "→ accept %s", e.Participant)
	case contractnet.EventReject:
		out.say("auctioneer", "→ reject %s: %s", e.Participant, e.Reason)
	case contractnet.EventResult:
		out.say("auctioneer", "← %s reports: %s", e.Participant, e.Message.Content)
	case contractnet.EventDone:
		out.say("auctioneer", "← %s reports done", e.Participant)
	case contractnet.EventFailure:
		out.say("auctioneer", "← %s failed: %s", e.Participant, e.Reason)
	case contractnet.EventTimeout:
		out.say("auctioneer", "   %s did not report in time", e.Participant)
	case contractnet.EventViolation, contractnet.EventNotUnderstood, contractnet.EventUnreachable:
		out.say("auctioneer", "!! %s %s: %s", e.Kind, e.Participant, e.Reason)
	}
}

// summarize prints what the Result says about one auction.
func summarize(out *transcript, t task.Task, res *contractnet.Result) {
	r := res.Rounds[len(res.Rounds)-1]
	out.say("auctioneer", "%s: asked %d, %d proposals, %d refusals, %d silent at the deadline",
		t.Name, len(res.Asked()), len(r.Proposals), len(r.Refused), len(r.Silent))
	for _, o := range res.Outcomes {
		switch {
		case o.OK():
			out.say("auctioneer", "%s: won by %s, succeeded: %s", t.Name, o.Participant, o.Result())
		default:
			out.say("auctioneer", "%s: won by %s, %s: %s", t.Name, o.Participant, o.Status, o.Reason)
		}
	}
}
