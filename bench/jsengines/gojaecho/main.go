//go:build wasip1

// Command gojaecho is the pure-Go alternative to the QuickJS engine guest,
// for measurement only: goja (a JavaScript interpreter in Go) compiled
// into a Go guest, running the same echo script as guest/js/agents/echo.js
// through a minimal handle(msg, ctx) with ctx.reply. It is not a product:
// the benchmark beside it compares start, memory and message cost.
package main

import (
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
	"github.com/dop251/goja"
)

const script = `function handle(msg, ctx) { ctx.reply('inform', msg.text); }`

func init() {
	vm := goja.New()
	if _, err := vm.RunString(script); err != nil {
		panic(err)
	}
	handle, ok := goja.AssertFunction(vm.Get("handle"))
	if !ok {
		panic("no handle")
	}
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		msg := vm.NewObject()
		_ = msg.Set("text", string(m.Content))
		_ = msg.Set("performative", m.Performative.String())
		_ = msg.Set("sender", string(m.Sender))
		ctx := vm.NewObject()
		var err error
		_ = ctx.Set("reply", func(p, content string) {
			perf, perr := acl.ParsePerformative(p)
			if perr != nil {
				err = perr
				return
			}
			err = c.Reply(perf, []byte(content))
		})
		if _, jerr := handle(goja.Undefined(), msg, ctx); jerr != nil {
			return jerr
		}
		return err
	})
}

func main() {}
