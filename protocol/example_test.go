//go:build !wasip1

// The runtime (wasmtime, cgo) does not build for wasip1: tests against it
// run on the host only.

package protocol_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
)

// newExample starts a runtime with agent name answering through r, and a
// Client on the inbox "buyer". Close the runtime when done.
func newExample(name acl.AgentID, r protocol.Responder) (*caxton.Runtime, *protocol.Client) {
	ctx := context.Background()
	rt, err := caxton.New()
	if err != nil {
		panic(err)
	}
	if err := rt.Spawn(ctx, caxton.AgentSpec{Name: name, Handler: caxton.ProtocolHandler(r)}); err != nil {
		panic(err)
	}
	ib, err := rt.NewInbox("buyer")
	if err != nil {
		panic(err)
	}
	return rt, protocol.NewClient(ib)
}

// A seller agrees to orders it can fill and reports the result; the buyer
// gets the agree, the result, or the refusal with its reason.
func ExampleClient_Request() {
	ctx := context.Background()
	rt, c := newExample("seller", protocol.RequestResponder{
		Check: func(_ context.Context, m *acl.Message) error {
			if string(m.Content) != "A-1" {
				return protocol.Refuse("unknown sku " + string(m.Content))
			}
			return nil
		},
		Agree: true,
		Do: func(context.Context, *acl.Message) ([]byte, error) {
			return []byte("order 7 placed"), nil
		},
	})
	defer rt.Close(ctx)
	defer c.Close()

	order := acl.New(acl.Request, "seller")
	order.Content = []byte("A-1")
	ans, err := c.Request(ctx, order)
	fmt.Println(ans.Agree != nil, string(ans.Result.Content), err)

	order = acl.New(acl.Request, "seller")
	order.Content = []byte("Z-9")
	_, err = c.Request(ctx, order)
	var re *protocol.ReplyError
	if errors.As(err, &re) {
		fmt.Println(errors.Is(err, protocol.ErrRefused), re.Performative, re.Reason)
	}
	// Output:
	// true order 7 placed <nil>
	// true refuse unknown sku Z-9
}

var stock = map[string]string{"A-1": `{"price":12.5}`}

var stockResponder = protocol.QueryResponder{
	If: func(_ context.Context, m *acl.Message) (bool, error) {
		_, ok := stock[string(m.Content)]
		return ok, nil
	},
	Ref: func(_ context.Context, m *acl.Message) ([]byte, error) {
		v, ok := stock[string(m.Content)]
		if !ok {
			return nil, protocol.Refuse("no such item")
		}
		return []byte(v), nil
	},
}

// Query-if asks whether something is true.
func ExampleClient_QueryIf() {
	ctx := context.Background()
	rt, c := newExample("stock", stockResponder)
	defer rt.Close(ctx)
	defer c.Close()

	for _, sku := range []string{"A-1", "Z-9"} {
		q := acl.New(acl.QueryIf, "stock")
		q.Content = []byte(sku)
		inStock, _, err := c.QueryIf(ctx, q)
		fmt.Println(sku, inStock, err)
	}
	// Output:
	// A-1 true <nil>
	// Z-9 false <nil>
}

// Query-ref asks for a value.
func ExampleClient_QueryRef() {
	ctx := context.Background()
	rt, c := newExample("stock", stockResponder)
	defer rt.Close(ctx)
	defer c.Close()

	q := acl.New(acl.QueryRef, "stock")
	q.Content = []byte("A-1")
	ans, err := c.QueryRef(ctx, q)
	fmt.Println(string(ans.Result.Content), err)

	q = acl.New(acl.QueryRef, "stock")
	q.Content = []byte("Z-9")
	_, err = c.QueryRef(ctx, q)
	fmt.Println(errors.Is(err, protocol.ErrRefused))
	// Output:
	// {"price":12.5} <nil>
	// true
}

// A proposal is accepted or rejected with a reason.
func ExampleClient_Propose() {
	ctx := context.Background()
	rt, c := newExample("colleague", protocol.ProposeResponder{
		Decide: func(_ context.Context, m *acl.Message) error {
			if string(m.Content) == "meeting at 7am" {
				return protocol.Refuse("too early")
			}
			return nil
		},
	})
	defer rt.Close(ctx)
	defer c.Close()

	for _, p := range []string{"lunch at noon", "meeting at 7am"} {
		ans, err := c.Propose(ctx, &acl.Message{Receivers: []acl.AgentID{"colleague"}, Content: []byte(p)})
		if err != nil {
			fmt.Println(p+":", err)
			continue
		}
		fmt.Println(p+":", ans.Result.Performative)
	}
	// Output:
	// lunch at noon: accept-proposal
	// meeting at 7am: protocol: reject-proposal from "colleague": too early
}

// A subscriber reads a numbered stream of informs until it cancels. Here
// the host publishes on the agent's behalf; inside the agent's handler,
// pass mc.Send instead.
func ExampleClient_Subscribe() {
	ctx := context.Background()
	prices := &protocol.SubscribeResponder{}
	rt, c := newExample("ticker", prices)
	defer rt.Close(ctx)
	defer c.Close()

	sub, err := c.Subscribe(ctx, &acl.Message{Receivers: []acl.AgentID{"ticker"}, Content: []byte("A-1")})
	if err != nil {
		panic(err)
	}
	asTicker := func(ctx context.Context, m *acl.Message) error {
		m.Sender = "ticker"
		return rt.Send(ctx, m)
	}
	for _, p := range []string{"12.5", "12.7"} {
		if err := prices.Publish(ctx, asTicker, []byte(p)); err != nil {
			panic(err)
		}
	}
	for range 2 {
		m, err := sub.Next(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Println(m.Params[protocol.SeqParam], string(m.Content))
	}
	fmt.Println(sub.Cancel(ctx), prices.Subscribers())
	_, err = sub.Next(ctx)
	fmt.Println(err)
	// Output:
	// 1 12.5
	// 2 12.7
	// <nil> 0
	// protocol: subscription cancelled
}
