package caxton_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

// A native agent answers a request from host code.
func Example() {
	ctx := context.Background()
	rt, err := caxton.New()
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	err = rt.Spawn(ctx, caxton.AgentSpec{
		Name: "billing",
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			return mc.Reply(ctx, acl.Inform, []byte("refund issued for "+string(mc.Message().Content)))
		}),
	})
	if err != nil {
		panic(err)
	}
	reply, err := rt.Request(ctx, &acl.Message{
		Performative: acl.Request,
		Receivers:    []acl.AgentID{"billing"},
		Content:      []byte("invoice 42"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s from %s: %s\n", reply.Performative, reply.Sender, reply.Content)
	// Output: inform from billing: refund issued for invoice 42
}

// Agents and host callbacks subscribe to topics; a message addressed to
// acl.Topic reaches every subscriber.
func ExampleRuntime_SubscribeFunc() {
	ctx := context.Background()
	rt, _ := caxton.New()
	defer rt.Close(ctx)

	heard := make(chan string, 1)
	sub, err := rt.SubscribeFunc("alerts", func(_ context.Context, m *acl.Message) error {
		heard <- string(m.Content)
		return nil
	})
	if err != nil {
		panic(err)
	}
	defer sub.Unsubscribe(ctx)

	_ = rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{acl.Topic("alerts")}, Content: []byte("disk almost full")})
	fmt.Println(<-heard)
	// Output: disk almost full
}

// A handler that keeps failing is retried with backoff, then its message is
// dead-lettered with the reason and the last error.
func ExampleRuntime_DeadLetters() {
	ctx := context.Background()
	rt, _ := caxton.New()
	defer rt.Close(ctx)

	_ = rt.Spawn(ctx, caxton.AgentSpec{
		Name:     "fragile",
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 2, Backoff: caxton.Backoff{Initial: time.Millisecond}},
		Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
			return errors.New("database unavailable")
		}),
	})
	_ = rt.Send(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"fragile"}})

	// Close drains the queues (retries included) before it returns.
	_ = rt.Close(ctx)
	dls, _ := rt.DeadLetters(ctx)
	for _, d := range dls {
		fmt.Printf("%s: %s after %d attempts: %s\n", d.Receiver, d.Reason, d.Attempts, d.LastError)
	}
	// Output: fragile: max attempts after 2 attempts: database unavailable
}

// A host inbox lets plain Go code hold a conversation and receive
// selectively.
func ExampleInbox() {
	ctx := context.Background()
	rt, _ := caxton.New()
	defer rt.Close(ctx)

	_ = rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		return mc.Reply(ctx, acl.Inform, mc.Message().Content)
	})})
	desk, _ := rt.NewInbox("desk")
	for _, s := range []string{"one", "two"} {
		_ = desk.Send(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}, Content: []byte(s)})
	}
	second, _ := desk.ReceiveMatching(ctx, acl.MatchContent([]byte("two")))
	first, _ := desk.Receive(ctx)
	fmt.Println(string(second.Content), string(first.Content))
	// Output: two one
}
