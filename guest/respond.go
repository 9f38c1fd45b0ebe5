package guest

import (
	"context"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
)

// Respond makes a protocol responder (contractnet.Participant,
// protocol.RequestResponder, a protocol.Mux ...) the guest's handler, so a
// wasm agent speaks a FIPA protocol with the same code a native agent uses:
//
//	func init() { guest.Handle(guest.Respond(&contractnet.Participant{Bid: bid, Execute: run})) }
//
// The responder's context is context.Background (a batch has no host
// context); its sends go to the outbox and are delivered when the batch
// succeeds.
func Respond(r protocol.Responder) Handler {
	return func(m *acl.Message, c *Context) error {
		return r.Respond(context.Background(), m, conn{c})
	}
}

// conn adapts Context to protocol.Conn.
type conn struct{ c *Context }

func (k conn) Send(_ context.Context, m *acl.Message) error {
	k.c.Send(m)
	return nil
}

func (k conn) Now() time.Time { return k.c.Now() }
