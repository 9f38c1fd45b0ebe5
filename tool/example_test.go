package tool_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/caxton-go/caxton/tool"
)

// A grant allows one tool and every tool of the "files" server, at five
// calls a second. A toolbox enforces it and answers with a Result: a
// denial is a value, and Err turns it into an error when that is handier.
func Example() {
	g := tool.Grant{Allow: []string{"lookup", "files/*"}, Rate: 5}
	if err := g.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	g = g.WithDefaults()
	fmt.Println("burst", g.Burst, "timeout", g.Timeout)

	tb := tool.ToolboxFunc(func(_ context.Context, c tool.Call) tool.Result {
		if !c.Grant.Allows(c.Tool) {
			return tool.Result{Status: tool.StatusDenied, Content: []byte("not in the grant")}
		}
		return tool.Result{Content: []byte(`{"found":true}`)}
	})
	for _, name := range []string{"files/read", "admin/wipe"} {
		r := tb.CallTool(context.Background(), tool.Call{Agent: "clerk", Tool: name, Arguments: []byte(`{}`), Grant: g})
		r.Tool = name
		fmt.Printf("%s: %s: %s\n", name, r.Status, r.Content)
		var ce *tool.CallError
		if errors.As(r.Err(), &ce) {
			fmt.Println("error:", ce)
		}
	}
	// Output:
	// burst 5 timeout 30s
	// files/read: ok: {"found":true}
	// admin/wipe: denied: not in the grant
	// error: tool "admin/wipe": denied: not in the grant
}
