//go:build cgo

package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/caxton-go/caxton/tool"
)

// ToolFunc runs a tool call for a guest: the host's access control, rate
// limits and timeouts apply inside it. The status crosses the ABI as its
// number (tool.Status's numbering is part of the ABI); content is the
// result, or the reason the call failed.
type ToolFunc func(ctx context.Context, name string, args []byte) (status tool.Status, content []byte)

// maxToolName bounds a tool name a guest passes.
const maxToolName = 256

// hostToolCall implements caxton.tool_call(name_ptr, name_len, args_ptr,
// args_len, out_ptr, out_cap) -> i64: the status in the high 32 bits, the
// bytes written at out_ptr in the low 32. A denial, a timeout or a result
// too large for the buffer is a status, not a trap; only pointers outside
// memory trap (the guest is broken).
func hostToolCall(c *wasmtime.Caller, namePtr, nameLen, argsPtr, argsLen, outPtr, outCap int32) (int64, *wasmtime.Trap) {
	in, _ := c.Data().(*Instance)
	if in == nil {
		return 0, wasmtime.NewTrap("caxton.tool_call: no instance")
	}
	mem := callerMemory(c, in)
	if mem == nil {
		return 0, wasmtime.NewTrap("caxton.tool_call: guest has no memory export")
	}
	data := mem.UnsafeData(c)
	inside := func(p, n int32) bool { return p >= 0 && n >= 0 && int64(p)+int64(n) <= int64(len(data)) }
	if !inside(namePtr, nameLen) || !inside(argsPtr, argsLen) || !inside(outPtr, outCap) {
		return 0, wasmtime.NewTrap(fmt.Sprintf("caxton.tool_call: a buffer lies outside memory of %d bytes", len(data)))
	}
	reply := func(status tool.Status, content []byte) int64 {
		if len(content) > int(outCap) {
			msg := fmt.Sprintf("the result is %d bytes; the guest's buffer holds %d", len(content), outCap)
			status, content = tool.StatusTooLarge, []byte(msg)
			if len(content) > int(outCap) {
				content = content[:outCap]
			}
		}
		n := copy(data[outPtr:int64(outPtr)+int64(outCap)], content)
		return int64(status)<<32 | int64(n)
	}
	switch {
	case in.cfg.Tools == nil:
		return reply(tool.StatusUnavailable, []byte("this agent has no tools")), nil
	case nameLen == 0 || nameLen > maxToolName:
		return reply(tool.StatusBadArguments, []byte(fmt.Sprintf("tool name of %d bytes (1 to %d)", nameLen, maxToolName))), nil
	case int(argsLen) > in.cfg.Limits.MaxOutboundMessage:
		return reply(tool.StatusBadArguments, []byte(fmt.Sprintf("arguments of %d bytes exceed the limit of %d", argsLen, in.cfg.Limits.MaxOutboundMessage))), nil
	}
	name := string(data[namePtr : namePtr+nameLen])
	args := append([]byte(nil), data[argsPtr:argsPtr+argsLen]...) // the call may outlive this view
	enter := time.Now()
	status, content := in.cfg.Tools(in.ctx, name, args)
	in.rearmDeadline(time.Since(enter))
	data = mem.UnsafeData(c) // a fresh view after the host call
	return reply(status, content), nil
}

// rearmDeadline gives the batch back the wall time a host call took: the
// deadline bounds the guest's own running time, and a tool call has its
// own timeout.
func (in *Instance) rearmDeadline(spent time.Duration) {
	in.hostTime += spent
	used := time.Since(in.callStart) - in.hostTime
	left := in.cfg.Limits.BatchDeadline - used
	t := in.m.e.tick
	ticks := uint64(1)
	if left > 0 {
		ticks = uint64((left+t-1)/t) + 1
	}
	in.store.SetEpochDeadline(ticks)
}
