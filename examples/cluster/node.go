package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/cluster"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
)

const entries = 20 // ledger entries a sends, half before c dies, half after

// carriers: one per node, each bidding its price.
var carriers = map[string]struct {
	name  acl.AgentID
	price float64
}{"a": {"fjord-freight", 420}, "b": {"bergen-bulk", 380}, "c": {"oslo-express", 510}}

// runNode is one process of the example: it joins the cluster as name,
// spawns its agents, does its part, and closes when stdin ends. Lines
// starting "event " are for the parent.
func runNode(name, url string, stdin io.Reader, out io.Writer) error {
	ctx := context.Background()
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}
	// A short lease makes the takeover quick to watch; it must still be
	// several heartbeats long (a third of it), or a node starved of CPU
	// for a moment would look dead.
	n, err := cluster.New(name, cluster.WithURLs(url), cluster.WithLease(3*time.Second), cluster.WithAckWait(3*time.Second))
	if err != nil {
		return err
	}
	rt, err := caxton.New(caxton.WithCluster(n))
	if err != nil {
		return err
	}
	defer rt.Close(ctx)

	// b's billing and c's ledger before their carriers: a starts once it
	// sees all three carriers, and then addresses them at once.
	switch name {
	case "b":
		if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "billing",
			Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
				say("billing: refund requested for %s", mc.Message().Content)
				return mc.Reply(ctx, acl.Inform, []byte("refund issued for "+string(mc.Message().Content)))
			})}); err != nil {
			return err
		}
	case "c":
		if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "ledger", Handler: ledger("c", say, func(booked []int) {
			if len(booked) == entries/2 {
				say("event booked-first-half")
			}
		})}); err != nil {
			return err
		}
	}
	c := carriers[name]
	if err := rt.Spawn(ctx, caxton.AgentSpec{Name: c.name, Capabilities: []string{"transport"},
		Handler: caxton.ProtocolHandler(&contractnet.Participant{
			Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
				say("%s bids %.0f", c.name, c.price)
				return contractnet.Offer{Cost: c.price}, nil
			},
			Execute: func(_ context.Context, cfp, _ *acl.Message, o contractnet.Offer) ([]byte, error) {
				say("%s moves %s", c.name, cfp.Content)
				return fmt.Appendf(nil, "%s moved %s for %.0f", c.name, cfp.Content, o.Cost), nil
			},
		})}); err != nil {
		return err
	}
	switch name {
	case "b":
		go takeOverLedger(ctx, rt, n, say)
	case "a":
		go func() {
			if err := lead(ctx, rt, n, say); err != nil {
				say("a failed: %v", err)
			}
		}()
	}
	_, _ = io.Copy(io.Discard, stdin) // until the parent closes it
	return nil
}

// ledger books entries, calling after with what this node booked so far.
func ledger(node string, say func(string, ...any), after func([]int)) caxton.Handler {
	var booked []int
	return caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
		i, _ := strconv.Atoi(string(mc.Message().Content))
		if slices.Contains(booked, i) {
			say("ledger on %s: entry %d again (at-least-once: it was redelivered)", node, i)
		} else {
			booked = append(booked, i)
			say("ledger on %s: booked entry %d", node, i)
		}
		after(booked)
		return nil
	})
}

// awaitGone waits until node has been in the cluster and its lease ended.
func awaitGone(n *cluster.Node, node string) {
	for !slices.Contains(n.Nodes(), node) {
		time.Sleep(50 * time.Millisecond)
	}
	for slices.Contains(n.Nodes(), node) {
		time.Sleep(50 * time.Millisecond)
	}
}

// takeOverLedger is b's placement decision: when c is gone, spawn its
// ledger here; the agent's JetStream queue comes with the name.
func takeOverLedger(ctx context.Context, rt *caxton.Runtime, n *cluster.Node, say func(string, ...any)) {
	awaitGone(n, "c")
	say("node c's lease ended: spawning the ledger here to take over its queue")
	err := rt.Spawn(ctx, caxton.AgentSpec{Name: "ledger", Handler: ledger("b", say, func(booked []int) {
		for i := entries/2 + 1; i <= entries; i++ {
			if !slices.Contains(booked, i) {
				return
			}
		}
		say("event ledger-complete")
	})})
	if err != nil {
		say("taking over the ledger failed: %v", err)
	}
}

// lead is a's part: a request, a Contract Net round, and the ledger stream.
func lead(ctx context.Context, rt *caxton.Runtime, n *cluster.Node, say func(string, ...any)) error {
	for len(rt.Capable("transport")) < 3 {
		time.Sleep(50 * time.Millisecond)
	}
	say("nodes %v; carriers %v", n.Nodes(), rt.Capable("transport"))
	reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"billing"}, Content: []byte("invoice 42")})
	if err != nil {
		return err
	}
	say("got %s from %s: %s", reply.Performative, reply.Sender, reply.Content)

	ib, err := rt.NewInbox("shipper")
	if err != nil {
		return err
	}
	shipper := &contractnet.Initiator{Client: protocol.NewClient(ib), Directory: rt, Select: contractnet.LowestCost(1)}
	cfp := acl.New(acl.CFP, contractnet.Capability("transport"))
	cfp.Content = []byte("12 pallets")
	cfp.ReplyBy = time.Now().Add(10 * time.Second)
	res, err := shipper.Run(ctx, cfp)
	if err != nil {
		return err
	}
	w := res.Outcomes[0]
	say("contract net: %d bids, %s won: %s", len(res.Rounds[0].Proposals), w.Participant, w.Result())

	send := func(from, to int) error {
		for i := from; i <= to; i++ {
			if err := rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"ledger"}, Content: []byte(strconv.Itoa(i))}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := send(1, entries/2); err != nil {
		return err
	}
	say("sent ledger entries 1-%d", entries/2)
	awaitGone(n, "c")
	if err := send(entries/2+1, entries); err != nil {
		return err
	}
	say("sent ledger entries %d-%d after c died: JetStream keeps them for whoever hosts the ledger next", entries/2+1, entries)
	return nil
}
