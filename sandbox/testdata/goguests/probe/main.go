// Command probe is the conformance suite's probe in Go
// (internal/conformance; guest/c/agents/probe.c and
// guest/rust/agents/probe.rs are the same agent). It does what the content
// says and answers inform to reply-to or sender:
//
//	fail            fails, worth retrying (nothing is answered)
//	fatal           fails permanently
//	log:TEXT        logs TEXT at info level; answers "logged"
//	tool:NAME:ARGS  calls host tool NAME with the JSON ARGS; answers "STATUS:RESULT"
//	grow:N          allocates and touches N MiB, kept; answers "grew" (the Go
//	                runtime aborts when memory runs out)
//	spin            loops forever (until the deadline or the fuel ends)
//	anything else   answers "ok:" and the content
package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
)

var kept [][]byte

// sink keeps spin's counter observable, so the loop is not optimised away.
var sink uint64

func init() {
	guest.Handle(func(m *acl.Message, c *guest.Context) error {
		text := string(m.Content)
		cmd, arg, _ := strings.Cut(text, ":")
		switch cmd {
		case "fail":
			return errors.New("asked to fail")
		case "fatal":
			return guest.Permanent(errors.New("asked to fail for good"))
		case "log":
			c.Log(guest.LevelInfo, arg)
			return c.Reply(acl.Inform, []byte("logged"))
		case "tool":
			name, args, ok := strings.Cut(arg, ":")
			if !ok {
				args = "{}"
			}
			r := c.CallTool(name, []byte(args))
			return c.Reply(acl.Inform, append([]byte(strconv.Itoa(int(r.Status))+":"), r.Content...))
		case "grow":
			mib, err := strconv.Atoi(arg)
			if err != nil {
				return guest.Permanent(errors.New("grow:N wants a number"))
			}
			for range mib {
				b := make([]byte, 1<<20)
				for i := range b {
					b[i] = 1
				}
				kept = append(kept, b)
			}
			return c.Reply(acl.Inform, []byte("grew"))
		case "spin":
			for {
				sink++
			}
		}
		return c.Reply(acl.Inform, []byte("ok:"+text))
	})
}

func main() {}
