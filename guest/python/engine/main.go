// Command engine is the Python engine guest: gpython, a Python 3.4
// interpreter written in Go, compiled with the guest SDK into a
// WebAssembly guest. Each instance loads one agent's script, its init data
// (sandbox/ABI.md, "Init data"), and runs the script's handle(msg, ctx)
// for every message. The agent API is in ../README.md; prelude.py
// implements it over the host calls in host.go.
package main

import (
	"errors"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

var errNoScript = errors.New("python: no script was loaded (the engine needs its agent's script as init data)")

// agent is the loaded script (nil until caxton_init succeeds).
var agent *interp

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		if agent == nil {
			return guest.Permanent(errNoScript)
		}
		return agent.handle(m, c)
	})
}

func main() {}
