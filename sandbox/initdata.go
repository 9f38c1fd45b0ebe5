//go:build cgo

package sandbox

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// The optional export that takes an instance's init data (ABI.md, "Init
// data"), and how much of a refusal's text the host reads.
const (
	initExport    = "caxton_init"
	initSignature = "(i32, i32) -> (i64)"
	maxInitReason = 16 << 10
)

// initData hands cfg.Init to the guest's caxton_init, through the inbound
// buffer (caxton_alloc), after the ABI version check. An interpreter guest
// compiles its script there, so a script that does not load fails start-up
// with KindInitFailed and the interpreter's own message, not the agent's
// first message.
func (in *Instance) initData(wi *wasmtime.Instance, startErr func(error, string) error) error {
	if in.m.preinit {
		return nil // start-up, init data included, ran when the module was made
	}
	if !in.m.takesInit {
		if len(in.cfg.Init) > 0 {
			return in.abiErr("the agent has init data (%d bytes: a script?) but the module does not export %s to take it", len(in.cfg.Init), initExport)
		}
		return nil
	}
	in.batch = append(in.batch[:0], in.cfg.Init...)
	if err := in.copyIn(); err != nil {
		return err
	}
	ptr := int32(in.bufPtr)
	if len(in.cfg.Init) == 0 {
		ptr = 0
	}
	v, err := in.call(export(in.store, wi, initExport, (*wasmtime.Extern).Func), ptr, int32(len(in.cfg.Init)))
	in.batch = in.batch[:0]
	if err != nil {
		return startErr(err, initExport)
	}
	r, _ := v.(int64)
	switch {
	case r == 0:
		return nil
	case r < 0:
		return &Error{Agent: in.cfg.Agent, Kind: KindInitFailed, Detail: fmt.Sprintf("%s returned %d", initExport, r)}
	}
	p, n := uint32(r>>32), uint32(r)
	data := in.mem.UnsafeData(in.store)
	if uint64(p)+uint64(n) > uint64(len(data)) {
		return in.abiErr("%s's reason [%d, +%d) lies outside memory of %d bytes", initExport, p, n, len(data))
	}
	reason := string(data[p : p+min(n, maxInitReason)])
	if !utf8.ValidString(reason) {
		reason = strings.ToValidUTF8(reason, "\uFFFD")
	}
	// One line, as every Detail: a script's stack trace becomes " | "-separated.
	var lines []string
	for _, l := range strings.Split(reason, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	reason = strings.Join(lines, " | ")
	return &Error{Agent: in.cfg.Agent, Kind: KindInitFailed, Detail: reason}
}
