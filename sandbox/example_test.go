package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
)

// greeter is a complete Guest ABI v1 agent in WebAssembly text: it logs a
// line for every batch and sends nothing.
const greeter = `(module
  (import "caxton" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "got a batch")
  (func (export "caxton_abi_version") (result i32) (i32.const 1))
  ;; one inbound buffer, the second 64 KiB page; larger batches: out of memory
  (func (export "caxton_alloc") (param $size i32) (result i32)
    (if (result i32) (i32.le_u (local.get $size) (i32.const 65536))
      (then (i32.const 65536)) (else (i32.const 0))))
  (func (export "caxton_handle") (param $ptr i32) (param $len i32) (result i64)
    (call $log (i32.const 0) (i32.const 16) (i32.const 11)) ;; level info
    (i64.const 0)))`

// noTime drops the time from log records, so the output is reproducible.
func noTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// Compile a guest written in WebAssembly text, start an instance of it for
// an agent, and hand it a batch of two messages in one call.
func Example() {
	eng, err := sandbox.NewEngine()
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	mod, err := eng.CompileText(context.Background(), greeter) // binary modules: Compile or CompileFile
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	in, err := mod.Instantiate(ctx, sandbox.InstanceConfig{
		Agent:  "greeter",
		Logger: slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime})),
	})
	if err != nil {
		panic(err)
	}
	defer in.Close()
	batch := []*acl.Message{
		{Performative: acl.Inform, Sender: "host", Receivers: []acl.AgentID{"greeter"}, Content: []byte("hello")},
		{Performative: acl.Inform, Sender: "host", Receivers: []acl.AgentID{"greeter"}, Content: []byte("again")},
	}
	out, err := in.Handle(ctx, batch)
	if err != nil {
		panic(err)
	}
	fmt.Println("outbox:", len(out), "messages")
	// Output:
	// level=INFO msg="got a batch" agent=greeter
	// outbox: 0 messages
}

// A guest that fails yields an *Error that says what happened and whether
// the instance can still be used.
func ExampleError() {
	eng, err := sandbox.NewEngine()
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	_, err = eng.Compile(context.Background(), []byte("not wasm at all"))
	fmt.Println(err)

	crasher := `(module (memory (export "memory") 1)
  (func (export "caxton_abi_version") (result i32) (i32.const 1))
  (func (export "caxton_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "caxton_handle") (param i32 i32) (result i64) unreachable))`
	mod, err := eng.CompileText(context.Background(), crasher)
	if err != nil {
		panic(err)
	}
	in, err := mod.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "crasher"})
	if err != nil {
		panic(err)
	}
	defer in.Close()
	_, err = in.Handle(context.Background(), []*acl.Message{{Performative: acl.Inform, Receivers: []acl.AgentID{"crasher"}}})
	var se *sandbox.Error
	if errors.As(err, &se) {
		fmt.Println(se.Kind, "- replace the instance:", se.Broken())
	}
	fmt.Println(err)
	// Output:
	// sandbox: invalid module: not a WebAssembly binary module: it does not begin with "\0asm"
	// unreachable - replace the instance: true
	// sandbox: agent "crasher": unreachable: caxton_handle: wasm `unreachable` instruction executed
}
