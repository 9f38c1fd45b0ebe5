// Package guest is the Go SDK for writing Caxton agents that run as
// WebAssembly guests in a Caxton sandbox. It implements Guest ABI v1
// (sandbox/ABI.md): the host hands the agent a batch of messages in one
// call, the agent's handler runs once per message, and everything the
// handler sends is collected in an outbox the host reads after the call —
// there is no host call per send.
//
// A complete agent is a main package that registers its handler in init:
//
//	//go:build wasip1
//
//	package main
//
//	import (
//		"github.com/caxton-go/caxton/acl"
//		"github.com/caxton-go/caxton/guest"
//	)
//
//	func init() {
//		guest.Handle(func(m *acl.Message, c *guest.Context) error {
//			c.Log(guest.LevelInfo, "echoing "+string(m.Content))
//			return c.Reply(acl.Inform, m.Content)
//		})
//	}
//
//	func main() {}
//
// # The wasip1 build tag
//
// Start every file of a guest with //go:build wasip1. A guest is a program
// only for the wasm target: without the tag, `go build ./...`, `go vet ./...`
// and `go test ./...` on the host build it as a native program that does
// nothing (main returns at once), and any file that uses wasip1-only
// features (//go:wasmimport, //go:wasmexport) breaks them. With the tag the
// host's go commands skip the package; vet it for its target with
//
//	GOOS=wasip1 GOARCH=wasm go vet ./agent/
//
// This package itself builds everywhere (Handle, Context and the rest are
// declared for every platform, so `go doc` and editors find them); only the
// wasm exports and host imports are wasip1-only. On other platforms Handle
// just records the handler, which nothing calls.
//
// # Building
//
// Build a guest with the caxton-guest command, which writes the module and
// a provenance file (agent.wasm.sum: the Go version, the inputs and their
// hashes) for checking the module in. Put this line in a host file (not in
// the guest: go generate skips files whose build tags exclude them), next
// to the //go:embed that picks the module up:
//
//	//go:generate go run github.com/caxton-go/caxton/cmd/caxton-guest build -o agent/agent.wasm ./agent
//
//	//go:embed agent/agent.wasm
//	var agentWasm []byte
//
// Then spawn it with caxton.AgentSpec{Name: "agent", Wasm: &caxton.WasmSpec{Module: agentWasm}}.
// The build is GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared with
// reproducible flags; package github.com/caxton-go/caxton/guest/gobuild runs
// the same build from Go code (tests, services that build agents on start).
//
// The package depends only on acl, protocol, tool (the tool-call vocabulary
// the host shares, so a status means the same on both sides) and the shared
// ABI codec, never on host packages (wasmtime, OpenTelemetry). Handlers must not block
// waiting for goroutines that nothing will wake: a Go guest with nothing
// runnable traps ("all goroutines are asleep"), and the host discards that
// instance.
package guest

import (
	"errors"
	"fmt"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
)

// The guest's single dispatcher: a wasm instance runs one agent. The
// wasip1 build binds its host imports.
var agent = &dispatcher{}

// Handle registers the agent's handler; call it from an init function of
// the guest's main package. The host calls the handler once per inbound
// message, in order. A later call replaces the handler.
func Handle(h Handler) { agent.handler = h }

// Handler handles one inbound message. Returning an error fails the whole
// batch: nothing sent while handling it is delivered, and the host hands
// its messages back one at a time, retrying the failing one with backoff
// (or dead-lettering it at once if the error wraps ErrPermanent).
type Handler func(m *acl.Message, c *Context) error

// Log levels for Context.Log; they are slog levels on the host.
const (
	LevelDebug = -4
	LevelInfo  = 0
	LevelWarn  = 4
	LevelError = 8
)

// ErrPermanent marks a handler error as not worth retrying; wrap it with
// fmt.Errorf("...: %w", guest.ErrPermanent) or use Permanent.
var ErrPermanent = errors.New("guest: permanent failure")

// Permanent wraps err so the host dead-letters the batch without retrying.
func Permanent(err error) error { return fmt.Errorf("%w: %w", ErrPermanent, err) }

// Context is what a handler gets with each message: where to send, and the
// host's services. It is valid only during the handler call.
type Context struct {
	in      *acl.Message
	outbox  []*acl.Message
	host    host
	toolBuf *[]byte // the dispatcher's, reused across calls and batches
}

// host is the set of host imports; the wasip1 build binds the real ones,
// tests bind fakes.
type host interface {
	log(level int32, msg string)
	now() int64
	// toolCall runs a tool, writing the result into out; it returns the
	// status and the bytes written.
	toolCall(name string, args, out []byte) (status uint8, n int)
}

// Send queues m for sending when the batch succeeds. The host stamps the
// agent's name as sender; setting another sender gets the message rejected.
func (c *Context) Send(m *acl.Message) {
	c.outbox = append(c.outbox, m)
}

// Reply queues a reply to the current message (acl.CreateReply semantics)
// with performative p and content.
func (c *Context) Reply(p acl.Performative, content []byte) error {
	r := c.in.CreateReplyWith(p, "")
	r.Content = content
	if len(r.Receivers) == 0 {
		return errors.New("guest: cannot reply: the message has neither reply-to nor sender")
	}
	c.Send(r)
	return nil
}

// Log writes msg to the host's log with the agent's name.
func (c *Context) Log(level int, msg string) { c.host.log(int32(level), msg) }

// Now returns the host runtime's clock (a fake clock in the host's tests).
func (c *Context) Now() time.Time { return time.Unix(0, c.host.now()).UTC() }

// dispatcher runs the registered handler over a batch. It is the portable
// core of the guest side of the ABI, tested on the host.
type dispatcher struct {
	handler Handler
	host    host
	out     []byte
	toolBuf []byte
}

// handle decodes batch, runs the handler for each message, and returns the
// encoded outbox or a negative ABI status.
func (d *dispatcher) handle(batch []byte) ([]byte, int64) {
	msgs, err := abi.DecodeBatch(batch, abi.Limits{})
	if err != nil {
		d.host.log(LevelError, "guest: "+err.Error())
		return nil, abi.StatusBadInput
	}
	if d.handler == nil {
		d.host.log(LevelError, "guest: no handler registered (call guest.Handle in init)")
		return nil, abi.StatusPermanent
	}
	c := &Context{host: d.host, toolBuf: &d.toolBuf}
	for _, m := range msgs {
		c.in = m
		if err := d.call(m, c); err != nil {
			d.host.log(LevelWarn, "guest: handler failed: "+err.Error())
			if errors.Is(err, ErrPermanent) {
				return nil, abi.StatusPermanent
			}
			return nil, abi.StatusFailed
		}
	}
	if len(c.outbox) == 0 {
		return nil, 0
	}
	d.out = abi.AppendBatch(d.out[:0], c.outbox)
	return d.out, 0
}

func (d *dispatcher) call(m *acl.Message, c *Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return d.handler(m, c)
}
