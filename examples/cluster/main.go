// Command cluster runs one agent system across three processes on this
// machine, joined through NATS JetStream (an embedded server here; a real
// deployment gives cluster.WithURLs its NATS cluster):
//
//	cd examples/cluster && go run .   (a module of its own, beside cluster's)
//
// Node a asks billing (on b) for a refund, runs a Contract Net round with
// carriers on all three nodes, and streams entries to the ledger agent on
// c. Then c is killed (SIGKILL) mid-stream: the entries keep queueing in
// JetStream, b takes the ledger over once c's lease has ended, and every
// entry is booked.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/caxton-go/caxton/cluster/embedded"
)

// nodeEnv makes the binary run as one node (see node.go).
const (
	nodeEnv = "CAXTON_EXAMPLE_NODE"
	urlEnv  = "CAXTON_EXAMPLE_NATS"
)

func main() {
	if name := os.Getenv(nodeEnv); name != "" {
		if err := runNode(name, os.Getenv(urlEnv), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "node %s: %v\n", name, err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

// child is one node process.
type child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan error
}

// run starts NATS and three node processes, relays their output, kills c
// when it has booked its share, and stops a and b when the ledger is
// complete on b.
func run(w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := embedded.Start(ctx, 1)
	if err != nil {
		return err
	}
	defer srv.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var (
		mu     sync.Mutex
		events = make(chan string, 64)
	)
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, format+"\n", args...)
	}
	say("host:  NATS with JetStream at %s; starting nodes a, b and c", srv.URLs()[0])
	children := map[string]*child{}
	for _, name := range []string{"c", "b", "a"} { // a last: it starts the work once the others are up
		cmd := exec.CommandContext(ctx, self)
		cmd.Env = append(os.Environ(), nodeEnv+"="+name, urlEnv+"="+srv.URLs()[0])
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		in, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		c := &child{name: name, cmd: cmd, stdin: in, done: make(chan error, 1)}
		children[name] = c
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if ev, ok := strings.CutPrefix(line, "event "); ok {
					events <- name + " " + ev
					continue
				}
				say("%s:     %s", name, line)
			}
			c.done <- cmd.Wait()
		}()
	}
	stop := func(name string) error {
		c := children[name]
		_ = c.stdin.Close() // the node closes its runtime and exits
		select {
		case err := <-c.done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		select {
		case ev := <-events:
			switch ev {
			case "c booked-first-half":
				say("host:  killing node c (SIGKILL) with the ledger's stream half done")
				if err := children["c"].cmd.Process.Kill(); err != nil {
					return err
				}
				<-children["c"].done
			case "b ledger-complete":
				say("host:  every ledger entry booked; stopping a and b")
				return errors.Join(stop("a"), stop("b"))
			}
		case <-ctx.Done():
			return fmt.Errorf("the example did not finish: %w", ctx.Err())
		}
	}
}
