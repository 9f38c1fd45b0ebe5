// Command wasm-agent deploys a WebAssembly agent from a .wasm file and asks
// it one question from host code.
//
//	go run ./examples/wasm-agent guest/c/agents/echo.wasm "hello"
//
// The agent must implement Guest ABI v1 (sandbox/ABI.md): the C agents in
// guest/c/agents and any Go agent built with the guest package do.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: wasm-agent [-timeout 5s] FILE.wasm [QUESTION]")
		flag.PrintDefaults()
	}
	timeout := flag.Duration("timeout", 5*time.Second, "how long to wait for the reply")
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		flag.Usage()
		os.Exit(2)
	}
	question := "hello"
	if flag.NArg() == 2 {
		question = flag.Arg(1)
	}
	if err := run(os.Stdout, flag.Arg(0), question, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "wasm-agent:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, file, question string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rt, err := caxton.New()
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())

	err = rt.Spawn(ctx, caxton.AgentSpec{
		Name:     "guest",
		Wasm:     &caxton.WasmSpec{File: file, Limits: sandbox.Limits{BatchDeadline: timeout}},
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 1},
	})
	if err != nil {
		return fmt.Errorf("deploying %s: %w", file, err)
	}
	fmt.Fprintf(w, "deployed %s as agent %q\n", file, "guest")
	reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"guest"}, Content: []byte(question)})
	if err != nil {
		dls, _ := rt.DeadLetters(ctx)
		for _, d := range dls {
			err = errors.Join(err, fmt.Errorf("dead letter: %s: %s", d.Reason, d.LastError))
		}
		return err
	}
	fmt.Fprintf(w, "asked %q, got %s: %q\n", question, reply.Performative, reply.Content)
	return nil
}
