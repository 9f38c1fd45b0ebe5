package mcpserver_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/mcp/mcpserver"
)

// An MCP client asks an agent a question through the server face. Here
// the client is in the same process, over in-memory transports; an LLM
// host would connect over stdio (ServeStdio) or HTTP (HTTPHandler).
func ExampleNew() {
	ctx := context.Background()
	rt, err := caxton.New()
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)
	err = rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(
		func(ctx context.Context, mc *caxton.MessageContext) error {
			return mc.Reply(ctx, acl.Inform, mc.Message().Content)
		})})
	if err != nil {
		log.Fatal(err)
	}

	server, err := mcpserver.New(rt)
	if err != nil {
		log.Fatal(err)
	}
	st, ct := sdk.NewInMemoryTransports()
	if _, err := server.Connect(ctx, st, nil); err != nil {
		log.Fatal(err)
	}
	client, err := sdk.NewClient(&sdk.Implementation{Name: "example", Version: "v0"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	res, err := client.CallTool(ctx, &sdk.CallToolParams{Name: "request", Arguments: map[string]any{
		"receivers": []string{"echo"}, "content": "hello, agents",
	}})
	if err != nil {
		log.Fatal(err)
	}
	reply := res.StructuredContent.(map[string]any)
	fmt.Printf("%s from %s: %s\n", reply["performative"], reply["sender"], reply["content"])
	// Output: inform from echo: hello, agents
}

// Serving the runtime to MCP clients over HTTP, next to the service's own
// routes. The authenticator identifies every caller (here by API key); the
// identity is logged with each tool call and read with IdentityFrom.
func ExampleHTTPHandler() {
	rt, err := caxton.New()
	if err != nil {
		log.Fatal(err)
	}
	keys := map[string]string{"k-7f3a": "billing-team"} // API key -> who holds it
	h, err := mcpserver.HTTPHandler(rt, mcpserver.WithName("billing-agents"),
		mcpserver.WithAuthenticator(func(r *http.Request) (mcpserver.Identity, error) {
			who, ok := keys[r.Header.Get("X-Api-Key")]
			if !ok {
				return mcpserver.Identity{}, errors.New("a valid X-Api-Key header is required")
			}
			return mcpserver.Identity{Subject: who}, nil
		}),
		mcpserver.WithAllowedOrigins("https://console.example.com"), // a web console may call it
		mcpserver.WithMaxSessions(200))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	log.Fatal(http.ListenAndServe("localhost:8080", mux))
}
