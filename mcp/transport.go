package mcp

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"syscall"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Transport is how the registry reaches one MCP server. It is a factory,
// not a connection: the registry asks it for a fresh go-sdk transport each
// time it (re)initialises the server's session — a subprocess that died
// must be started again, an HTTP session the server forgot must be
// initialised again.
type Transport interface {
	// Open returns a new go-sdk transport for one session.
	Open() sdk.Transport
}

// TransportFunc adapts a function to Transport.
type TransportFunc func() sdk.Transport

// Open calls f.
func (f TransportFunc) Open() sdk.Transport { return f() }

// SDK returns a Transport that calls newTransport for every session: any
// go-sdk transport, for example sdk.NewInMemoryTransports in tests.
func SDK(newTransport func() sdk.Transport) Transport { return TransportFunc(newTransport) }

// DefaultTerminateDuration is how long CommandTransport waits for a
// server to exit after closing its stdin, and again after SIGTERM, before
// it kills the process. A healthy server exits within milliseconds of its
// stdin closing; one that does not is asked to stop soon after. The
// official TypeScript and Python MCP SDKs wait 2 s at each step too.
const DefaultTerminateDuration = 2 * time.Second

// CommandTransport runs an MCP server as a subprocess and speaks to it over
// its stdin and stdout. Every session starts a new process; closing the
// session (Registry.Close, or a lost session) shuts the server down as the
// MCP stdio transport specifies — close its stdin, wait for it to exit,
// then SIGTERM, then SIGKILL, TerminateDuration apart — and always reaps
// it. A server that exits after its stdin closes (with status 0) or when
// sent SIGTERM has shut down normally; closing it reports an error only
// when it had to be killed or exited with a failure status of its own.
//
// Messages are not size-capped by default (MaxMessageBytes 0). The go-sdk
// caps stdio messages at 16 MiB and, when a server sends a bigger one,
// breaks the session — failing every call in flight on it, for every
// agent. A grant's MaxResult is the limit that matters, and it is per
// agent: the registry checks it once the result has arrived and answers
// tool.StatusTooLarge to that one call, leaving the session intact. The
// cost is that a runaway server can make the host buffer one huge message;
// set MaxMessageBytes (above the largest MaxResult you grant, plus JSON
// overhead) if the server is not trusted that far.
type CommandTransport struct {
	// Path is the program to run, found in PATH if it has no separator
	// (as os/exec does); Args are its arguments.
	Path string
	Args []string
	// Env is the server's environment; nil inherits the host's (as
	// os/exec does). Dir is its working directory ("" for the host's).
	Env []string
	Dir string
	// Stderr receives the server's standard error (nil: discarded).
	Stderr io.Writer
	// MaxMessageBytes caps one incoming message (0: no cap).
	MaxMessageBytes int
	// TerminateDuration: see DefaultTerminateDuration (0: that default).
	TerminateDuration time.Duration
}

// Command returns a transport that runs path with args as a stdio MCP
// server. Set the fields of the result to configure it further.
func Command(path string, args ...string) *CommandTransport {
	return &CommandTransport{Path: path, Args: args}
}

// Open returns a transport that starts a new process when connected.
func (t *CommandTransport) Open() sdk.Transport {
	c := *t
	c.Args, c.Env = slices.Clone(t.Args), slices.Clone(t.Env)
	return &commandTransport{c}
}

type commandTransport struct{ cfg CommandTransport }

// Connect starts the process. The go-sdk's own CommandTransport cannot lift
// the 16 MiB message cap, so this is the same thing over sdk.IOTransport.
func (t *commandTransport) Connect(ctx context.Context) (sdk.Connection, error) {
	td := t.cfg.TerminateDuration
	if td <= 0 {
		td = DefaultTerminateDuration
	}
	cmd := exec.Command(t.cfg.Path, t.cfg.Args...)
	cmd.Env, cmd.Dir, cmd.Stderr = t.cfg.Env, t.cfg.Dir, t.cfg.Stderr
	// If the server leaves a child holding stderr open, Wait must not
	// hang on the copy.
	cmd.WaitDelay = td
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	limit := t.cfg.MaxMessageBytes
	if limit <= 0 {
		limit = -1 // the go-sdk's "no cap"
	}
	iot := &sdk.IOTransport{
		// The connection is closed through stdin, never by closing
		// stdout under a reader: Wait closes stdout once the process is
		// gone.
		Reader:        nopReadCloser{stdout},
		Writer:        &process{cmd: cmd, stdin: stdin, terminate: td},
		MaxLineLength: limit,
	}
	return iot.Connect(ctx)
}

type nopReadCloser struct{ io.Reader }

func (nopReadCloser) Close() error { return nil }

// process is the server's stdin; closing it ends the process.
type process struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	terminate time.Duration
}

func (p *process) Write(b []byte) (int, error) { return p.stdin.Write(b) }

// Close shuts the server down as the MCP stdio transport specifies:
// close its stdin, wait for it to exit, then SIGTERM, wait again, then
// SIGKILL. The process is reaped in every case.
//
// Exiting with status 0 once stdin is closed, and exiting on the SIGTERM
// (whatever its status: the signal is part of the shutdown), are normal
// ends and return nil. The error says when the server exited with a
// failure of its own, or did not stop until killed.
func (p *process) Close() error {
	_ = p.stdin.Close() // fails only if already closed; the wait tells the rest
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	wait := func() (error, bool) {
		t := time.NewTimer(p.terminate)
		defer t.Stop()
		select {
		case err := <-exited:
			return err, true
		case <-t.C:
			return nil, false
		}
	}
	if err, ok := wait(); ok {
		if err != nil {
			return fmt.Errorf("the server (pid %d) exited with a failure: %w", p.cmd.Process.Pid, err)
		}
		return nil
	}
	if p.cmd.Process.Signal(syscall.SIGTERM) == nil {
		if _, ok := wait(); ok {
			return nil // it stopped when asked to
		}
	}
	_ = p.cmd.Process.Kill()
	err := <-exited // after SIGKILL, Wait returns (WaitDelay bounds the pipes)
	return fmt.Errorf("the server (pid %d) did not exit within %v of its stdin closing, nor within %v of SIGTERM; killed (%v)",
		p.cmd.Process.Pid, p.terminate, p.terminate, err)
}
