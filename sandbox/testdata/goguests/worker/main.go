// Command worker is a Go guest specialist: it answers requests with
// "done:<content>", logs through the host, and refuses anything else.
package main

import (
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		if m.Performative != acl.Request {
			return c.Reply(acl.NotUnderstood, nil)
		}
		c.Log(guest.LevelInfo, "working on "+string(m.Content))
		return c.Reply(acl.Inform, append([]byte("done:"), m.Content...))
	})
}

func main() {}
