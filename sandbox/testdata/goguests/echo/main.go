package main

import (
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		return c.Reply(acl.Inform, m.Content)
	})
}

func main() {}
