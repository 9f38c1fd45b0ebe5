package caxton

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/caxton-go/caxton/tool"
)

// version is one version of an agent's code: what Spawn gave, then what
// each Upgrade gives. The rest of the spec (name, replicas, mailboxes,
// policies) belongs to the agent and does not change with its code.
type version struct {
	n       int                                                  // 1 for the spawned code, then 2, 3, ...
	label   string                                               // AgentSpec.Version, or "v<n>"
	handler Handler                                              // AgentSpec.Handler: shared by every instance
	factory func(context.Context, InstanceInfo) (Handler, error) // AgentSpec.NewHandler, or the wasm guest's
	wasm    *WasmSpec                                            // the guest, for a wasm agent
	tools   tool.Grant                                           // what this code may call
}

// newVersion takes the code of a spec (with defaults) as version n.
func newVersion(n int, spec AgentSpec) *version {
	v := &version{n: n, label: spec.Version, handler: spec.Handler, factory: spec.NewHandler, wasm: spec.Wasm, tools: spec.Tools}
	if v.label == "" {
		v.label = "v" + strconv.Itoa(n)
	}
	return v
}

// owned reports whether instances make (and close) their own handlers:
// NewHandler and wasm agents. A shared Handler belongs to the host.
func (v *version) owned() bool { return v.factory != nil }

// slot is one version's handler on one instance.
type slot struct {
	v     *version
	h     Handler
	batch BatchHandler // h, if it takes batches
	wasm  *wasmHandler // h, for a wasm agent (metrics)
	// refs counts holders of h: the instance (1 from making), plus a
	// handling attempt running on its own goroutine (DeliveryPolicy.Timeout),
	// which may outlive the instance's use of h when it hangs.
	refs atomic.Int32
}

// makeSlot makes v's handler for instance in: the shared one, or a fresh
// one from v's factory.
//
// restart is the InstanceInfo.Restart the factory sees: the instance's
// replacements for the current version, 0 for a new version's first.
func (in *instance) makeSlot(ctx context.Context, v *version, restart int) (*slot, error) {
	h := v.handler
	if v.factory != nil {
		var err error
		h, err = v.factory(ctx, InstanceInfo{Agent: in.a.name(), Replica: in.replica, Restart: restart, Version: v.label})
		if err != nil {
			// A wasm agent's factory is the runtime's own: name what failed
			// in the terms of the spec the host wrote.
			step := "NewHandler"
			if v.wasm != nil {
				step = "starting its wasm guest"
			}
			return nil, fmt.Errorf("caxton: agent %q replica %d: %s: %w", in.a.name(), in.replica, step, err)
		}
		if h == nil {
			return nil, fmt.Errorf("caxton: agent %q replica %d: NewHandler returned a nil handler", in.a.name(), in.replica)
		}
	}
	s := &slot{v: v, h: h}
	s.refs.Store(1)
	s.batch, _ = h.(BatchHandler)
	if w, ok := h.(*wasmHandler); ok {
		s.wasm = w
	}
	return s, nil
}

// close gives up the instance's hold on s: an owned handler that is an
// io.Closer is closed once nothing holds it (a hung attempt may); a shared
// one belongs to the host and is left alone.
func (s *slot) close(logger func() *slog.Logger) {
	if s != nil {
		s.release(logger)
	}
}

// release drops a reference and closes the handler with the last; logger is
// called only to report a failed close (making an instance's logger costs an
// allocation per agent, and a million hibernating agents close instances).
func (s *slot) release(logger func() *slog.Logger) {
	if s.refs.Add(-1) != 0 || !s.v.owned() {
		return
	}
	if c, ok := s.h.(io.Closer); ok {
		if err := c.Close(); err != nil {
			logger().Warn("closing instance", "error", err)
		}
	}
}
