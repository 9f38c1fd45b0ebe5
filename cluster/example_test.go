package cluster_test

import (
	"context"
	"fmt"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/cluster"
	"github.com/caxton-go/caxton/cluster/embedded"
)

// Two runtimes, one NATS server: host code on node "a" asks an agent on
// node "b", exactly as it would ask a local one.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := embedded.Start(ctx, 1) // production: your NATS cluster's URLs
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	join := func(name string) *caxton.Runtime {
		n, err := cluster.New(name, cluster.WithURLs(srv.URLs()...))
		if err != nil {
			panic(err)
		}
		rt, err := caxton.New(caxton.WithCluster(n))
		if err != nil {
			panic(err)
		}
		return rt
	}
	a, b := join("a"), join("b")
	defer a.Close(ctx)
	defer b.Close(ctx)

	err = b.Spawn(ctx, caxton.AgentSpec{Name: "billing", Capabilities: []string{"refunds"},
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			return mc.Reply(ctx, acl.Inform, []byte("refund issued for "+string(mc.Message().Content)))
		})})
	if err != nil {
		panic(err)
	}
	reply, err := a.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"billing"}, Content: []byte("invoice 42")})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s from %s: %s\n", reply.Performative, reply.Sender, reply.Content)
	fmt.Println("capable on a:", a.Capable("refunds"))
	// Output:
	// inform from billing: refund issued for invoice 42
	// capable on a: [billing]
}
