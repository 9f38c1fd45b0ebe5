// Command toolcaller is a test guest: each message's content is
// {"tool": name, "args": {...}}; it calls the tool through the host and
// replies with {"status": n, "content": "..."}.
package main

import (
	"encoding/json"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

type call struct {
	Tool string          `json:"tool"`
	Args json.RawMessage `json:"args"`
}

type answer struct {
	Status  int    `json:"status"`
	Content string `json:"content"`
}

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		var in call
		if err := json.Unmarshal(m.Content, &in); err != nil {
			return guest.Permanent(err)
		}
		var args any
		if len(in.Args) > 0 {
			args = in.Args
		}
		r := c.CallTool(in.Tool, args)
		out, _ := json.Marshal(answer{Status: int(r.Status), Content: string(r.Content)})
		return c.Reply(acl.Inform, out)
	})
}

func main() {}
