// Command counter is a Go guest whose state survives across messages: it
// replies to each message with how many it has seen.
package main

import (
	"strconv"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

var seen int

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		seen++
		return c.Reply(acl.Inform, []byte(strconv.Itoa(seen)))
	})
}

func main() {}
