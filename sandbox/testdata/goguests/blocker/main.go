// Command blocker is a hostile Go guest: on "block" it waits on a channel
// nothing will ever send to, so the Go runtime in the guest finds every
// goroutine asleep and aborts; otherwise it echoes.
package main

import (
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		if string(m.Content) == "block" {
			var never chan int
			<-never
		}
		return c.Reply(acl.Inform, m.Content)
	})
}

func main() {}
