package caxton_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest/python"
)

// A Python agent is a script, run inside the sandbox like any WebAssembly
// guest. JSON content arrives as dicts and leaves as JSON. The runtime runs
// Python given the engine (package guest/python); a module cache directory
// makes compiling it once per machine rather than once per process.
func ExampleWasmSpec_python() {
	ctx := context.Background()
	cache, err := os.UserCacheDir()
	if err != nil {
		panic(err)
	}
	rt, err := caxton.New(
		caxton.WithPython(python.Engine()),
		caxton.WithSandboxCacheDir(filepath.Join(cache, "caxton", "modules")))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	err = rt.Spawn(ctx, caxton.AgentSpec{Name: "pricing", Wasm: &caxton.WasmSpec{Python: `
def handle(msg, ctx):
    total = sum(i["price"] * i["qty"] for i in msg.content["items"])
    ctx.reply("inform", {"total": total, "currency": "EUR"})
`}})
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
	// Output: inform (json): {"currency":"EUR","total":13.0}
}
