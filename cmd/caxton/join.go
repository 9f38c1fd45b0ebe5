package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/caxton-go/caxton/acl"
)

// join: the CLI as an agent on the bus, over the WebSocket gateway.

func joinFlags(fs *flag.FlagSet) func(*env, []string) error {
	count := fs.Int("count", 0, "leave after this many messages (0: until interrupted)")
	return func(e *env, args []string) error {
		if *count < 0 {
			return usageErr(errors.New("join: --count must not be negative"))
		}
		s, err := e.c.Join(e.ctx, args[0])
		if err != nil {
			return err
		}
		defer s.Close()
		fmt.Fprintf(e.err, "caxton: joined as %s\n", s.Name())
		go func() { // each line of stdin is a message to send as the agent
			sc := bufio.NewScanner(os.Stdin)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line := bytes.TrimSpace(sc.Bytes())
				if len(line) == 0 {
					continue
				}
				id, err := s.SendRaw(e.ctx, bytes.Clone(line))
				if err != nil {
					fmt.Fprintf(e.err, "caxton: not sent: %s\n", describe(err))
					continue
				}
				fmt.Fprintf(e.err, "caxton: sent %s\n", id)
			}
		}()
		for n := 0; *count == 0 || n < *count; n++ {
			d, err := s.Receive(e.ctx)
			if err != nil {
				if e.ctx.Err() != nil {
					return nil // interrupted: leaving is the point
				}
				return err
			}
			if e.json {
				b, err := acl.Marshal(d.Message)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.out, "%s\n", b)
			} else {
				fmt.Fprintf(e.out, "%s from %s: %s\n", d.Message.Performative, d.Message.Sender, oneLine(string(d.Message.Content), 200))
			}
			if err := s.Ack(e.ctx, d); err != nil {
				return err
			}
		}
		return nil
	}
}
