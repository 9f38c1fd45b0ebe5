package caxton_test

import (
	"context"
	"fmt"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/clock"
)

// A counter agent written in C starts from its pre-initialised module,
// hibernates after a minute without messages (on the runtime's clock, a
// fake one here), and wakes with its count when the next message comes.
func ExampleWasmSpec_hibernate() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	slept := make(chan caxton.Event, 1)
	rt, err := caxton.New(caxton.WithClock(clk), caxton.WithEventHook(func(e caxton.Event) {
		if e.Kind == caxton.EventHibernated {
			slept <- e
		}
	}))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	err = rt.Spawn(ctx, caxton.AgentSpec{Name: "counter", Wasm: &caxton.WasmSpec{
		File:      "guest/c/agents/counter.wasm",
		Preinit:   true,        // start-up runs once, baked into the module
		Hibernate: time.Minute, // idle this long: state saved, store freed
	}})
	if err != nil {
		panic(err)
	}
	count := func() string {
		reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"counter"}})
		if err != nil {
			panic(err)
		}
		return string(reply.Content)
	}
	fmt.Println(count(), count())

	if err := clk.BlockUntil(ctx, 1); err != nil { // the runtime's sweeper is waiting
		panic(err)
	}
	clk.Advance(time.Minute)
	fmt.Println((<-slept).Kind)
	info, _ := rt.Agent("counter")
	fmt.Println("hibernated instances:", info.Hibernated)

	fmt.Println(count())
	// Output:
	// 1 2
	// hibernated
	// hibernated instances: 1
	// 3
}
