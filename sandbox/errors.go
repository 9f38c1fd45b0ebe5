package sandbox

import (
	"errors"
	"fmt"
	"strings"

	"github.com/caxton-go/caxton/acl"
)

// Kind classifies why a guest failed: to compile, to start, or to handle a
// batch.
type Kind uint8

// The failure kinds. Every kind but GuestFailed and GuestPermanent means the
// instance can no longer be trusted and must be discarded. New kinds are
// added at the end, so the numbers of the others never change.
const (
	KindOther          Kind = iota // a trap of another kind (divide by zero, bad conversion, ...)
	KindOutOfFuel                  // the batch used up its fuel
	KindDeadline                   // the batch (or start-up) ran past its wall-clock deadline
	KindMemory                     // the guest tried to grow memory past its limit, or ran out
	KindStackOverflow              // the guest exhausted its stack (deep recursion)
	KindUnreachable                // the guest executed `unreachable` (Rust/C panic, Go exit)
	KindOutOfBounds                // out-of-bounds memory or table access
	KindABIViolation               // the guest broke Guest ABI v1 (exports, versions, frames, limits)
	KindGuestFailed                // the guest's handler reported failure (status -2): retry
	KindGuestPermanent             // the guest's handler reported permanent failure (status -3)
	KindInvalidModule              // the bytes are not a valid WebAssembly module (empty, garbage, truncated, bad text)
	KindTable                      // a table started or grew past its element limit, or the module has too many tables
	KindInitFailed                 // the guest refused its init data (an interpreter guest's script did not load)
)

var kindNames = [...]string{
	KindOther: "trap", KindOutOfFuel: "out of fuel", KindDeadline: "deadline exceeded",
	KindMemory: "memory limit", KindStackOverflow: "stack overflow", KindUnreachable: "unreachable",
	KindOutOfBounds: "out of bounds", KindABIViolation: "ABI violation",
	KindGuestFailed: "guest failed", KindGuestPermanent: "guest failed permanently",
	KindInvalidModule: "invalid module", KindTable: "table limit",
	KindInitFailed: "init failed",
}

// String returns the kind's name as it appears in error messages (and so
// in a dead letter's last error).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ErrSandbox is wrapped by every *Error, for errors.Is.
var ErrSandbox = errors.New("sandbox")

// Error is a guest that failed to compile, to start or to handle a batch:
// which agent, what kind of failure, and the detail (the trap message, or
// which rule was broken). Details are one line: wasmtime's Rust backtraces
// (see the package doc on RUST_BACKTRACE) never reach them.
type Error struct {
	// Agent is the agent the guest runs as. Errors from Engine.Compile
	// leave it empty, because a compiled module is shared by content and
	// belongs to no agent; a caller that compiles on an agent's behalf
	// (the caxton runtime does) fills it in.
	Agent    acl.AgentID
	Kind     Kind
	Detail   string
	FuelUsed uint64 // fuel the failed call consumed (0 when fuel is not metered)
	// Err is the cause outside the guest, if there is one: the context's
	// error when start-up was cut short by the context's deadline.
	Err error
}

// Error reads "sandbox: agent "name": kind: detail", without the agent
// part when Agent is empty and with Err appended when there is one.
func (e *Error) Error() string {
	s := "sandbox: "
	if e.Agent != "" {
		s += fmt.Sprintf("agent %q: ", e.Agent)
	}
	s += e.Kind.String() + ": " + e.Detail
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrSandbox, and Err when there is one, so that both
// errors.Is(err, ErrSandbox) and errors.Is(err, context.DeadlineExceeded)
// hold for a start-up cut short by its context.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrSandbox, e.Err}
	}
	return []error{ErrSandbox}
}

// Broken reports whether the instance that produced e must be discarded.
func (e *Error) Broken() bool { return e.Kind != KindGuestFailed && e.Kind != KindGuestPermanent }

// cleanMessage reduces a wasmtime error message to one informative line.
// With RUST_BACKTRACE (or RUST_LIB_BACKTRACE) set, wasmtime appends a Rust
// stack backtrace (dozens of lines) to every error; a trap also carries a
// wasm backtrace (for a stack overflow, a megabyte of it), and the cause
// sits in a "Caused by:" chain. The result is the trap's own message, or
// the error and its causes joined by ": ", with a WAT syntax error's
// source excerpt replaced by its position.
func cleanMessage(s string) string {
	s, _, _ = strings.Cut(s, "Stack backtrace:")
	if i := strings.LastIndex(s, "wasm trap: "); i >= 0 {
		line, _, _ := strings.Cut(strings.TrimSpace(s[i+len("wasm trap: "):]), "\n")
		return truncateLog(strings.TrimSpace(line))
	}
	var parts []string
	for i, block := range strings.Split(s, "Caused by:") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if i == 0 {
			// The head: its first line, unless that only announces a wasm
			// backtrace, plus the position of a WAT error ("--> <anon>:3:7").
			head := strings.TrimSpace(lines[0])
			if strings.HasSuffix(head, "backtrace:") {
				continue
			}
			if len(lines) > 1 {
				if _, pos, ok := strings.Cut(lines[1], "--> <anon>:"); ok {
					head += " (at line:column " + strings.TrimSpace(pos) + ")"
				}
			}
			parts = append(parts, head)
			continue
		}
		for _, l := range lines { // "    0: outer", "    1: inner", or one unnumbered line
			l = strings.TrimSpace(l)
			if n, rest, ok := strings.Cut(l, ": "); ok && n != "" && strings.Trim(n, "0123456789") == "" {
				l = rest
			}
			if l != "" {
				parts = append(parts, l)
			}
		}
	}
	return truncateLog(strings.Join(parts, ": "))
}

// ErrNoCgo is returned by NewEngine in a program built without cgo
// (CGO_ENABLED=0): wasmtime, which runs the guests, is a C library. Such a
// program runs native agents as usual; the first Spawn of a wasm agent
// fails with this error.
var ErrNoCgo = errors.New("sandbox: built without cgo: wasm agents need CGO_ENABLED=1")

// truncateLog cuts a message a guest controls to maxLogMessage bytes.
func truncateLog(s string) string {
	if len(s) > maxLogMessage {
		return s[:maxLogMessage] + "…(truncated)"
	}
	return s
}

// ErrUnsafeCacheDir is returned (wrapped) by WithCacheDir for a directory
// another user could write to: loading a compiled module runs its machine
// code, so such a directory would let that user run code in this process.
var ErrUnsafeCacheDir = errors.New("sandbox: unsafe cache directory")
