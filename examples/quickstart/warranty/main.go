//go:build wasip1

// Command warranty is the quickstart's sandboxed specialist: a Go agent
// compiled to WebAssembly (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared) that
// answers warranty questions. It sees only the messages it is sent and can
// only reply; the host decides everything else.
package main

import (
	"strings"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		if m.Performative != acl.Request {
			return nil // announcements and the like: nothing to do
		}
		q := string(m.Content)
		c.Log(guest.LevelInfo, "checking warranty for "+q)
		answer := "standard warranty: 12 months from purchase"
		if strings.Contains(q, "pro") {
			answer = "pro devices: 24 months, including accidental damage"
		}
		return c.Reply(acl.Inform, []byte(answer))
	})
}

func main() {}
