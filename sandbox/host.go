//go:build cgo

package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// linkerFor returns the engine's linker: WASI plus the caxton host imports.
// The imports find their instance through the store's data, so one linker
// serves every instance.
func (e *Engine) linkerFor() (*wasmtime.Linker, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.linker != nil {
		return e.linker, nil
	}
	l := wasmtime.NewLinker(e.eng)
	if err := l.DefineWasi(); err != nil {
		return nil, fmt.Errorf("sandbox: define WASI: %w", err)
	}
	if err := l.FuncWrap("caxton", "log", hostLog); err != nil {
		return nil, fmt.Errorf("sandbox: define caxton.log: %w", err)
	}
	if err := l.FuncWrap("caxton", "now", hostNow); err != nil {
		return nil, fmt.Errorf("sandbox: define caxton.now: %w", err)
	}
	if err := l.FuncWrap("caxton", "tool_call", hostToolCall); err != nil {
		return nil, fmt.Errorf("sandbox: define caxton.tool_call: %w", err)
	}
	e.linker = l
	return l, nil
}

// hostLog implements caxton.log(level, ptr, len).
func hostLog(c *wasmtime.Caller, level, ptr, n int32) *wasmtime.Trap {
	in, _ := c.Data().(*Instance)
	if in == nil {
		return wasmtime.NewTrap("caxton.log: no instance")
	}
	mem := callerMemory(c, in)
	if mem == nil {
		return wasmtime.NewTrap("caxton.log: guest has no memory export")
	}
	data := mem.UnsafeData(c)
	if ptr < 0 || n < 0 || int64(ptr)+int64(n) > int64(len(data)) {
		return wasmtime.NewTrap(fmt.Sprintf("caxton.log: [%d, +%d) lies outside memory", ptr, n))
	}
	text := data[ptr : ptr+n]
	suffix := ""
	if len(text) > maxLogMessage { // cut before copying: the guest chooses n
		text, suffix = text[:maxLogMessage], "…(truncated)"
	}
	in.cfg.Logger.Log(in.ctx, slog.Level(level), string(text)+suffix)
	return nil
}

// hostNow implements caxton.now() in Unix nanoseconds.
func hostNow(c *wasmtime.Caller) int64 {
	if in, _ := c.Data().(*Instance); in != nil {
		return in.cfg.Now().UnixNano()
	}
	return 0
}

// classify turns a wasmtime error into an *Error of the right kind.
//
// wasmtime-go v39.0.1 numbers its TrapCode constants one lower than the C
// library from OutOfFuel on (a real out-of-fuel trap reports 12, which Go
// would call something else), so the kind is decided by the trap message
// first and the raw code only as a fallback for codes below the skew.
func (in *Instance) classify(err error, during string) error {
	e := &Error{Agent: in.cfg.Agent, FuelUsed: in.fuel}
	var trap *wasmtime.Trap
	var werr *wasmtime.Error
	switch {
	case errors.As(err, &trap):
		msg := trap.Message()
		e.Kind = trapKind(msg, trap.Code())
		e.Detail = during + ": " + cleanMessage(msg)
	case errors.As(err, &werr):
		if status, ok := werr.ExitStatus(); ok {
			e.Kind, e.Detail = KindOther, fmt.Sprintf("%s: guest exited with status %d", during, status)
			break
		}
		msg := werr.Error()
		e.Kind = trapKind(msg, nil)
		if e.Kind == KindOther && strings.Contains(msg, "unknown import") {
			e.Kind = KindABIViolation
		}
		e.Detail = during + ": " + cleanMessage(msg)
	default:
		e.Kind, e.Detail = KindOther, during+": "+cleanMessage(err.Error())
	}
	// wasmtime-go v39 gives no callback when the limiter refuses a
	// memory.grow or table.grow (the guest just gets -1); a guest that then
	// aborts with its memory or a table within one grow step of the limit
	// (or after printing "out of memory") is reported as hitting that
	// limit, which is what it almost always is.
	aborted := e.Kind == KindUnreachable || e.Kind == KindOther
	switch {
	case aborted && in.nearMemoryLimit():
		e.Kind = KindMemory
		e.Detail += fmt.Sprintf(" (linear memory near its %d-byte limit)", in.cfg.Limits.MaxMemory)
	case (aborted || e.Kind == KindOutOfBounds && strings.Contains(e.Detail, "table")) && in.nearTableLimit():
		e.Kind = KindTable
		e.Detail += fmt.Sprintf(" (a table near its %d-element limit)", maxTableElements)
	}
	return e
}

// nearTableLimit reports whether one of the guest's tables is within one
// plausible grow step (1,000 elements or an eighth of the limit) of the
// table limit.
func (in *Instance) nearTableLimit() bool {
	for _, t := range in.tables {
		if t.Size(in.store)+max(1000, maxTableElements/8) > maxTableElements {
			return true
		}
	}
	return false
}

// nearMemoryLimit reports whether the guest's memory is within one typical
// grow step (1 MiB or an eighth of the limit) of its limit, or the guest's
// last output says it ran out of memory.
func (in *Instance) nearMemoryLimit() bool {
	if in.oom {
		return true
	}
	if in.mem == nil {
		return false
	}
	lim := in.cfg.Limits.MaxMemory
	return int64(in.mem.DataSize(in.store))+max(1<<20, lim/8) > lim
}

// trapKind maps a trap message (and, where it is reliable, its code) to a
// Kind.
func trapKind(msg string, code *wasmtime.TrapCode) Kind {
	switch m := strings.ToLower(msg); {
	case strings.Contains(m, "all fuel consumed"), strings.Contains(m, "out of fuel"):
		return KindOutOfFuel
	case strings.Contains(m, "interrupt"):
		return KindDeadline
	case strings.Contains(m, "call stack exhausted"), strings.Contains(m, "stack overflow"):
		return KindStackOverflow
	case strings.Contains(m, "unreachable"):
		return KindUnreachable
	case strings.Contains(m, "out of bounds"):
		return KindOutOfBounds
	case strings.Contains(m, "memory") && (strings.Contains(m, "limit") || strings.Contains(m, "allocat")):
		return KindMemory
	case strings.Contains(m, "table") && (strings.Contains(m, "limit") || strings.Contains(m, "too high")):
		// "table minimum size of N elements exceeds table limits",
		// "resource limit exceeded: table count too high at 5"
		return KindTable
	}
	if code != nil {
		switch *code { // only codes below the v39 numbering skew
		case wasmtime.StackOverflow:
			return KindStackOverflow
		case wasmtime.MemoryOutOfBounds, wasmtime.TableOutOfBounds:
			return KindOutOfBounds
		case wasmtime.UnreachableCodeReached:
			return KindUnreachable
		}
	}
	return KindOther
}
