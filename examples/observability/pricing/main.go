//go:build wasip1

// Command pricing is the observability example's sandboxed agent: a Go
// program compiled to WebAssembly that quotes a stay ("quote: 3 nights").
// Its log line reaches the host's logger with the trace of the request it
// handles.
package main

import (
	"fmt"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

// rate is the price of a night in EUR.
const rate = 120

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		if m.Performative != acl.Request {
			return nil
		}
		var nights int
		if _, err := fmt.Sscanf(string(m.Content), "quote: %d nights", &nights); err != nil || nights <= 0 {
			return c.Reply(acl.NotUnderstood, []byte(`ask for "quote: N nights"`))
		}
		c.Log(guest.LevelInfo, fmt.Sprintf("quoting %d nights", nights))
		return c.Reply(acl.Inform, fmt.Appendf(nil, "quote: %d nights at %d EUR = %d EUR", nights, rate, nights*rate))
	})
}

func main() {}
