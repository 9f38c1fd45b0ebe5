package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/tool"
)

// A host tool, granted to one agent, which calls it while handling a
// request.
func ExampleRegistry() {
	ctx := context.Background()
	reg := mcp.NewRegistry()
	defer reg.Close() // deferred first: closes after the runtime
	err := reg.Add(mcp.Tool{
		Name:        "shout",
		Description: "upper-cases text",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`),
		Handler: func(_ context.Context, call tool.Call) ([]byte, error) {
			var in struct{ Text string }
			if err := json.Unmarshal(call.Arguments, &in); err != nil {
				return nil, err
			}
			return []byte(strings.ToUpper(in.Text)), nil
		},
	})
	if err != nil {
		panic(err)
	}

	rt, err := caxton.New(caxton.WithToolbox(reg))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	err = rt.Spawn(ctx, caxton.AgentSpec{
		Name:  "herald",
		Tools: tool.Grant{Allow: []string{"shout"}, Rate: 10},
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			res := mc.CallTool(ctx, "shout", map[string]string{"text": string(mc.Message().Content)})
			if err := res.Err(); err != nil {
				return mc.Reply(ctx, acl.Failure, []byte(err.Error()))
			}
			return mc.Reply(ctx, acl.Inform, res.Content)
		}),
	})
	if err != nil {
		panic(err)
	}
	reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"herald"}, Content: []byte("hear ye")})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %s\n", reply.Performative, reply.Content)
	a := reg.Audit()[0]
	fmt.Println(a.Agent, a.Tool, a.Status)
	// Output:
	// inform: HEAR YE
	// herald shout ok
}

// Outside its grant, a call is denied, and the reason says how to allow it.
func ExampleRegistry_CallTool() {
	reg := mcp.NewRegistry()
	defer reg.Close()
	_ = reg.Add(mcp.Tool{Name: "lookup", Handler: func(context.Context, tool.Call) ([]byte, error) {
		return []byte(`{"found":true}`), nil
	}})
	res := reg.CallTool(context.Background(), tool.Call{Agent: "clerk", Tool: "lookup", Arguments: json.RawMessage(`{}`)})
	fmt.Println(res.Status)
	fmt.Println(string(res.Content))
	// Output:
	// denied
	// agent "clerk" may not call tool "lookup": its grant allows nothing; add "lookup" or "*" to AgentSpec.Tools.Allow to allow it
}

// A typed host tool: the schema the registry checks arguments against is
// derived from the argument type, and the result is the value returned,
// as JSON.
func ExampleNewTool() {
	type quoteIn struct {
		Nights int    `json:"nights" jsonschema:"number of nights, at least 1"`
		Room   string `json:"room,omitempty" jsonschema:"room type (default: standard)"`
	}
	type quoteOut struct {
		Total    int    `json:"total"`
		Currency string `json:"currency"`
	}
	quote, err := mcp.NewTool("quote", "prices a stay", func(_ context.Context, _ tool.Call, in quoteIn) (quoteOut, error) {
		if in.Nights < 1 {
			return quoteOut{}, fmt.Errorf("nights: %d is not a stay", in.Nights)
		}
		return quoteOut{Total: 120 * in.Nights, Currency: "EUR"}, nil
	})
	if err != nil {
		panic(err)
	}
	reg := mcp.NewRegistry()
	defer reg.Close()
	if err := reg.Add(quote); err != nil {
		panic(err)
	}
	grant := tool.Grant{Allow: []string{"quote"}}
	ctx := context.Background()
	res := reg.CallTool(ctx, tool.Call{Agent: "concierge", Tool: "quote", Arguments: []byte(`{"nights":3}`), Grant: grant})
	fmt.Println(res.Status, string(res.Content))
	res = reg.CallTool(ctx, tool.Call{Agent: "concierge", Tool: "quote", Arguments: []byte(`{"nights":"three"}`), Grant: grant})
	fmt.Println(res.Status)
	// Output:
	// ok {"total":360,"currency":"EUR"}
	// bad arguments
}
