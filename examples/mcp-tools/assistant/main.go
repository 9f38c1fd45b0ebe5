//go:build wasip1

// Command assistant is the mcp-tools example's sandboxed agent: a Go program
// compiled to WebAssembly that answers travel questions with two tools it
// was granted — "fx", defined by the host in Go, and "weather/forecast",
// imported from an external MCP server. It reaches nothing else: no
// network, no files; a tool outside its grant is refused as a value.
package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
	"github.com/caxton-go/caxton/tool"
)

type question struct {
	City   string  `json:"city"`
	Amount float64 `json:"amount"`
	From   string  `json:"from"`
	To     string  `json:"to"`
}

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		if strings.HasPrefix(string(m.Content), "wipe") { // a tool it was not granted
			r := c.CallTool("admin/wipe", nil)
			return c.Reply(acl.Refuse, []byte(fmt.Sprintf("admin/wipe: %s: %s", r.Status, r.Content)))
		}
		var q question
		if err := json.Unmarshal(m.Content, &q); err != nil {
			return c.Reply(acl.NotUnderstood, []byte(err.Error()))
		}
		c.Log(guest.LevelInfo, "planning a trip to "+q.City)
		weather := c.CallTool("weather/forecast", map[string]string{"city": q.City})
		if weather.Status != tool.StatusOK {
			return c.Reply(acl.Failure, []byte("weather: "+weather.Err().Error()))
		}
		fx := c.CallTool("fx", q)
		if fx.Status != tool.StatusOK {
			return c.Reply(acl.Failure, []byte("fx: "+fx.Err().Error()))
		}
		var money struct{ Converted float64 }
		if err := json.Unmarshal(fx.Content, &money); err != nil {
			return c.Reply(acl.Failure, []byte("fx answered "+string(fx.Content)))
		}
		answer := fmt.Sprintf("%s: %s; %.2f %s is %.2f %s", q.City, weather.Content, q.Amount, q.From, money.Converted, q.To)
		return c.Reply(acl.Inform, []byte(answer))
	})
}

func main() {}
