// Command upgrade shows live operations on a sandboxed agent: a wasm
// "quote" agent is upgraded blue-green while requests keep coming, then a
// bad build is tried as a canary, crashes, and is rolled back
// automatically — every request still answered, none lost. Lifecycle
// events are printed as the runtime reports them.
//
// The guests are C (guests/*.c, built with `make -C guests`); their .wasm
// files are checked in, so running this needs only Go:
//
//	go run ./examples/upgrade
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
)

var (
	//go:embed guests/quote-v1.wasm
	quoteV1 []byte
	//go:embed guests/quote-v2.wasm
	quoteV2 []byte
	//go:embed guests/quote-v3.wasm
	quoteV3 []byte
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "upgrade:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex // one writer at a time: events arrive on their own goroutine
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, format+"\n", args...)
	}
	rt, err := caxton.New(caxton.WithEventHook(func(e caxton.Event) {
		switch e.Kind {
		case caxton.EventUpgradeStarted, caxton.EventUpgradeStep, caxton.EventUpgradePromoted, caxton.EventUpgradeRolledBack, caxton.EventRestarted:
			say("event:   %s", e)
		}
	}))
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())

	if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "quote", Version: "v1", Replicas: 2,
		Wasm: &caxton.WasmSpec{Module: quoteV1}}); err != nil {
		return err
	}
	ask := func(who string) error {
		reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"quote"}, Content: []byte("price?")})
		if err != nil {
			return fmt.Errorf("%s: %w", who, err)
		}
		say("%s got %q", who, reply.Content)
		return nil
	}
	if err := ask("client:"); err != nil {
		return err
	}

	// Blue-green: v2 is compiled and instantiated beside v1 on both
	// replicas, takes every request at once, is watched briefly, and v1
	// retires. Requests keep flowing meanwhile.
	say("host:    upgrading quote to v2, blue-green")
	if err := upgradeUnderLoad(ctx, rt, ask, quoteV2, "v2", caxton.Strategy{Watch: 200 * time.Millisecond}); err != nil {
		return err
	}
	info, _ := rt.Agent("quote")
	say("host:    quote runs %s (previous %s)", info.Version, info.Previous)

	// A canary of a bad build: a quarter of the requests go to v3, whose
	// first one crashes it; the upgrade is rolled back and the request it
	// failed is answered by v2.
	say("host:    trying v3 as a canary (25%%)")
	err = upgradeUnderLoad(ctx, rt, ask, quoteV3, "v3", caxton.Strategy{Kind: caxton.Canary, Steps: []int{25}, StepEvery: 2 * time.Second})
	var rb *caxton.RollbackError
	if !errors.As(err, &rb) {
		return fmt.Errorf("expected the canary to be rolled back, got %v", err)
	}
	say("host:    rolled back: %s", rb.Reason)
	if err := ask("client:"); err != nil {
		return err
	}
	info, _ = rt.Agent("quote")
	say("host:    quote runs %s; processed=%d failed=%d dead-lettered=%d", info.Version, info.Processed, info.Failed, info.DeadLettered)
	return nil
}

// upgradeUnderLoad upgrades the quote agent while a client asks for
// quotes, and returns the upgrade's result once the client has its answers.
func upgradeUnderLoad(ctx context.Context, rt *caxton.Runtime, ask func(string) error, module []byte, version string, s caxton.Strategy) error {
	done := make(chan error, 1)
	go func() {
		done <- rt.Upgrade(ctx, "quote", caxton.AgentSpec{Version: version, Wasm: &caxton.WasmSpec{Module: module}}, s)
	}()
	for i := 0; ; i++ {
		select {
		case err := <-done:
			return err
		default:
		}
		if err := ask(fmt.Sprintf("client %d:", i)); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond) // a client's pace, not a wait for the runtime
	}
}
