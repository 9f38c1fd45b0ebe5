package guest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
	"github.com/caxton-go/caxton/protocol"
)

// An agent registers its handler from an init function of its main package
// (whose files start with //go:build wasip1), and main is empty: the host
// calls the handler once per message.
func ExampleHandle() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		if m.Performative != acl.Request {
			return nil // informs and the like need no answer
		}
		c.Log(guest.LevelInfo, "echoing "+string(m.Content))
		return c.Reply(acl.Inform, m.Content)
	})
}

// A handler error makes the host retry the message with backoff; an error
// wrapped by Permanent dead-letters it at once.
func ExamplePermanent() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		var order struct{ Item string }
		if err := json.Unmarshal(m.Content, &order); err != nil {
			return guest.Permanent(fmt.Errorf("order is not JSON: %w", err)) // no retry will fix it
		}
		if order.Item == "" {
			return errors.New("no item yet") // retried
		}
		return c.Reply(acl.Agree, nil)
	})
}

// A guest speaks a FIPA protocol with the responder a native agent would
// use: here fipa-request, answering agree/refuse/inform by the protocol.
func ExampleRespond() {
	guest.Handle(guest.Respond(protocol.RequestResponder{
		Check: func(_ context.Context, m *acl.Message) error {
			if len(m.Content) == 0 {
				return protocol.Refuse("nothing to shout")
			}
			return nil
		},
		Do: func(_ context.Context, m *acl.Message) ([]byte, error) {
			return []byte(strings.ToUpper(string(m.Content))), nil
		},
	}))
}

// A guest calls a tool the host granted it; denials, timeouts and the
// tool's own errors come back as a status, not as a trap.
func ExampleContext_CallTool() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		r := c.CallTool("weather/forecast", map[string]string{"city": string(m.Content)})
		if err := r.Err(); err != nil {
			return c.Reply(acl.Failure, []byte(err.Error()))
		}
		return c.Reply(acl.Inform, r.Content)
	})
}
