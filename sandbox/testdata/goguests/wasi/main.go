// Command wasi is a Go guest that exercises WASI capabilities on request:
// "env:NAME", "args", "read:PATH", "write:PATH", "print:TEXT". It replies
// inform with the result or failure with the error, so tests can see what
// the host granted.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		cmd, arg, _ := strings.Cut(string(m.Content), ":")
		var out string
		var err error
		switch cmd {
		case "env":
			v, ok := os.LookupEnv(arg)
			out = fmt.Sprintf("%q %v", v, ok)
		case "args":
			out = strings.Join(os.Args, " ")
		case "read":
			var b []byte
			b, err = os.ReadFile(arg)
			out = string(b)
		case "write":
			err = os.WriteFile(arg, []byte("written by the guest"), 0o644)
			out = "ok"
		case "print":
			fmt.Println(arg)
			fmt.Fprintln(os.Stderr, "err:"+arg)
			out = "printed"
		default:
			err = fmt.Errorf("unknown command %q", cmd)
		}
		if err != nil {
			return c.Reply(acl.Failure, []byte(err.Error()))
		}
		return c.Reply(acl.Inform, []byte(out))
	})
}

func main() {}
