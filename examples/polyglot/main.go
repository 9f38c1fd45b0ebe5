// Command polyglot runs one conversation among agents written in six
// languages: Go (a native handler and a sandboxed Go guest), C, Rust,
// JavaScript and Python (all sandboxed). A customer auctions a job with
// Contract Net to bidders in Go, Go-in-the-sandbox, Rust, JavaScript and
// Python; the winner does it;
// then a JavaScript clerk files the result with a C worker and a C counter
// and answers the customer. Every step is one conversation, and the output
// shows who said what.
//
//	go run ./examples/polyglot
//
// Run it from the repository: the guests are the checked-in example agents
// (guest/c/agents, guest/js/agents, guest/python/agents, guest/rust/agents,
// examples/marketplace/bidder). Compiled guests are kept in the user's
// cache directory (caxton/modules), so the second run starts at once (the
// Go guests take seconds to compile).
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/examples/marketplace/task"
	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/guest/python"
	"github.com/caxton-go/caxton/protocol"
	"github.com/caxton-go/caxton/sandbox"
)

// The clerk is this demo's own JavaScript agent.
//
//go:embed agents/clerk.js
var clerkJS string

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "polyglot:", err)
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
	fmt.Fprintf(t.w, "%-14s %s\n", who+":", fmt.Sprintf(format, args...))
}

// repoFile finds a checked-in file by its path from the repository's root,
// from the working directory or any directory above it.
func repoFile(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("%s not found: run the demo from the Caxton repository", rel)
		}
		dir = up
	}
}

// goBidder is the native Go bidder: a contractnet.Participant in the
// host's process.
// rejected hears of each rejected bid once it has been printed.
func goBidder(out *transcript, rate float64, rejected chan<- struct{}) *contractnet.Participant {
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
			return fmt.Appendf(nil, "%s: %g units done by a Go agent for %.2f", t.Name, t.Size, o.Cost), nil
		},
		Rejected: func(_ context.Context, m *acl.Message, o contractnet.Offer) {
			out.say("go", "my %.2f bid was rejected: %s", o.Cost, m.Content)
			rejected <- struct{}{}
		},
	}
}

// conversation is the one conversation every step belongs to.
const conversation = "order-7"

func run(w io.Writer) error {
	// Two minutes: a first run compiles every guest, on a loaded machine
	// tens of seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := &transcript{w: w}

	cache, err := os.UserCacheDir()
	if err != nil {
		return err
	}
	rt, err := caxton.New(
		caxton.WithSandboxCacheDir(filepath.Join(cache, "caxton", "modules")),
		caxton.WithJavaScript(js.Engine()), caxton.WithPython(python.Engine()))
	if err != nil {
		return err
	}
	defer rt.Close(ctx)

	paths := map[string]string{}
	for _, rel := range []string{
		"guest/c/agents/worker.wasm", "guest/c/agents/counter.wasm",
		"guest/js/agents/bidder.js", "examples/marketplace/bidder/bidder.wasm", "guest/rust/agents/bidder.wasm",
		"guest/python/agents/bidder.py",
	} {
		if paths[rel], err = repoFile(rel); err != nil {
			return err
		}
	}
	goWasm, err := os.ReadFile(paths["examples/marketplace/bidder/bidder.wasm"])
	if err != nil {
		return err
	}
	bidders := []string{"compute"}
	rejected := make(chan struct{}, 1)
	agents := []caxton.AgentSpec{
		// Go, native.
		{Name: "go", Capabilities: bidders, Handler: caxton.ProtocolHandler(goBidder(out, 1.0, rejected))},
		// Go, compiled to WebAssembly and sandboxed (the marketplace's bidder).
		{Name: "go-wasm", Capabilities: bidders, Wasm: &caxton.WasmSpec{Module: goWasm,
			Grants: sandbox.Grants{Env: map[string]string{"RATE": "1.2"}}}},
		// JavaScript, in the sandbox's QuickJS.
		{Name: "js", Capabilities: bidders, Wasm: &caxton.WasmSpec{File: paths["guest/js/agents/bidder.js"],
			Grants: sandbox.Grants{Env: map[string]string{"RATE": "0.75"}}}},
		// Rust, built with the Rust SDK (guest/rust).
		{Name: "rust", Capabilities: bidders, Wasm: &caxton.WasmSpec{File: paths["guest/rust/agents/bidder.wasm"],
			Grants: sandbox.Grants{Env: map[string]string{"RATE": "0.9"}}}},
		// Python, in the sandbox's MicroPython (guest/python).
		{Name: "python", Capabilities: bidders, Wasm: &caxton.WasmSpec{File: paths["guest/python/agents/bidder.py"],
			Grants: sandbox.Grants{Env: map[string]string{"RATE": "1.1"}}}},

		// The clerk (JavaScript) and the C agents it works with.
		{Name: "js-clerk", Wasm: &caxton.WasmSpec{JavaScript: clerkJS}},
		{Name: "c-worker", Wasm: &caxton.WasmSpec{File: paths["guest/c/agents/worker.wasm"]}},
		{Name: "c-counter", Wasm: &caxton.WasmSpec{File: paths["guest/c/agents/counter.wasm"]}},
	}
	for _, spec := range agents {
		if err := rt.Spawn(ctx, spec); err != nil {
			return err
		}
	}
	ib, err := rt.NewInbox("customer")
	if err != nil {
		return err
	}
	client := protocol.NewClient(ib)
	defer client.Close()

	// 1. Contract Net: the cheapest bid wins. Every bidder answers, so the
	// round ends as soon as the last one has; the deadline is a safety net.
	job := task.Task{Name: "quarterly-report", Kind: "text", Size: 12}
	out.say("customer", "auctioning %s (%g units) to every agent with the compute capability", job.Name, job.Size)
	initiator := &contractnet.Initiator{
		Client: client, Directory: rt, Select: contractnet.LowestCost(1), ResultTimeout: 10 * time.Second,
	}
	cfp := acl.New(acl.CFP, contractnet.Capability("compute"))
	cfp.Content, cfp.Language, cfp.ConversationID = job.Encode(), "json", conversation
	cfp.ReplyBy = rt.Clock().Now().Add(20 * time.Second)
	res, err := initiator.Run(ctx, cfp)
	if err != nil {
		return err
	}
	round := res.Rounds[len(res.Rounds)-1]
	sort.Slice(round.Proposals, func(i, j int) bool { return round.Proposals[i].From < round.Proposals[j].From })
	for _, p := range round.Proposals {
		o, err := p.Offer()
		if err != nil {
			return err
		}
		out.say(p.From, "proposes %.2f", o.Cost)
	}
	if len(res.Outcomes) != 1 || !res.Outcomes[0].OK() {
		return errors.New("the auction found no winner that delivered")
	}
	won := res.Outcomes[0]
	out.say(won.Participant, "won and reports: %s", won.Result())

	// 2. The JavaScript clerk files the result with the C agents and answers.
	out.say("customer", "asks js-clerk to file it")
	req := acl.New(acl.Request, "js-clerk")
	req.Content, req.ConversationID = won.Result(), conversation
	ans, err := client.Request(ctx, req)
	if err != nil {
		return err
	}
	out.say(ans.Result.Sender, "%s %s", ans.Result.Performative, ans.Result.Content)

	// The Go bidder hears of its rejection in its own time: wait for it,
	// so the transcript is whole.
	select {
	case <-rejected:
	case <-ctx.Done():
		return ctx.Err()
	}
	out.say("customer", "done: one conversation (%s), agents in Go, Go in the sandbox, Rust, JavaScript, Python and C", conversation)
	return nil
}
