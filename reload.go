package caxton

import (
	"bytes"
	"context"
	"os"
)

// reload polls a wasm agent's File every WasmSpec.Reload on the runtime's
// clock and upgrades the agent (blue-green) when the file's contents
// change, until ctx ends. A version that fails to compile or start is
// rolled back (EventUpgradeRolledBack says why) and the file is watched on.
// last is the file's contents read before the running version was compiled:
// reading it here instead would take a change made while this goroutine was
// not yet scheduled for the baseline, and miss it.
func (a *agent) reload(ctx context.Context, last []byte) {
	w := *a.spec.Wasm
	for {
		t := a.rt.clock.NewTimer(w.Reload)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		cur, err := os.ReadFile(w.File)
		if err != nil || len(cur) == 0 || bytes.Equal(cur, last) || a.ro.Load() != nil {
			continue // a file being replaced may be missing or empty for a moment
		}
		last = cur
		v, err := a.rt.codeOf(ctx, a, AgentSpec{Wasm: w.fromContents(cur), Tools: a.version().tools})
		if err != nil {
			a.rt.logger.WarnContext(ctx, "hot reload: the changed file is not a usable module", "agent", a.name(), "file", w.File, "error", err)
			a.emit(EventUpgradeRolledBack, -1, "hot reload: "+err.Error())
			continue
		}
		if err := a.upgrade(ctx, v, Strategy{}); err != nil {
			a.rt.logger.WarnContext(ctx, "hot reload", "agent", a.name(), "file", w.File, "error", err)
		}
	}
}
