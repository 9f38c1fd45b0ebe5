// Command mirror is the conformance suite's field mirror in Go
// (internal/conformance; guest/c/agents/mirror.c and
// guest/rust/agents/mirror.rs are the same agent): it sends every message
// back as it came, to its reply-to (else its sender), with every field the
// guest can set copied, and what it cannot set in params: X-Sender, X-Id,
// X-Created-At (Unix nanoseconds) and X-Receivers (comma-separated).
package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		out := m.Clone()
		to := m.ReplyTo
		if to == "" {
			to = m.Sender
		}
		out.Receivers = []acl.AgentID{to}
		out.Sender, out.ID = "", acl.MessageID{}
		var created int64
		if !m.CreatedAt.IsZero() {
			created = m.CreatedAt.UnixNano()
		}
		out.CreatedAt = time.Time{}
		rcpt := make([]string, len(m.Receivers))
		for i, r := range m.Receivers {
			rcpt[i] = string(r)
		}
		if out.Params == nil {
			out.Params = map[string]string{}
		}
		out.Params["X-Sender"] = string(m.Sender)
		out.Params["X-Id"] = m.ID.String()
		out.Params["X-Created-At"] = strconv.FormatInt(created, 10)
		out.Params["X-Receivers"] = strings.Join(rcpt, ",")
		c.Send(out)
		return nil
	})
}

func main() {}
