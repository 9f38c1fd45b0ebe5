package caxton_test

import (
	"context"
	"fmt"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest/js"
)

// A JavaScript agent is a script, run inside the sandbox like any
// WebAssembly guest by the engine the runtime was given (package guest/js). JSON content arrives as objects and leaves as JSON.
func ExampleWasmSpec_javaScript() {
	ctx := context.Background()
	rt, err := caxton.New(caxton.WithJavaScript(js.Engine()))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	err = rt.Spawn(ctx, caxton.AgentSpec{Name: "pricing", Wasm: &caxton.WasmSpec{JavaScript: `
		function handle(msg, ctx) {
			const {items} = msg.content;
			const total = items.reduce((sum, i) => sum + i.price * i.qty, 0);
			ctx.reply('inform', {total, currency: 'EUR'});
		}`}})
	if err != nil {
		panic(err)
	}
	reply, err := rt.Request(ctx, &acl.Message{
		Performative: acl.Request,
		Receivers:    []acl.AgentID{"pricing"},
		Language:     "json",
		Content:      []byte(`{"items":[{"price":2.5,"qty":4},{"price":1,"qty":3}]}`),
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s (%s): %s\n", reply.Performative, reply.Language, reply.Content)
	// Output: inform (json): {"total":13,"currency":"EUR"}
}
