//go:build wasip1

// Command hello is the guest gobuild's example builds: it greets whoever
// asks.
package main

import (
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		return c.Reply(acl.Inform, []byte("hello, "+string(m.Sender)))
	})
}

func main() {}
