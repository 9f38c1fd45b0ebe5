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
func (a *agent) reload(ctx context.Context) {
	w := *a.spec.Wasm
	last, _ := os.ReadFile(w.File)
	for {
		t := a.rt.clock.NewTimer(w.Reload)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		cur, err := os.ReadFile(w.File)
		if err != nil || bytes.Equal(cur, last) || a.ro.Load() != nil {
			continue // a file being replaced may be missing for a moment
		}
		last = cur
		v, err := a.rt.codeOf(a, AgentSpec{Wasm: &w, Tools: a.version().tools})
		if err != nil {
			a.rt.logger.Warn("hot reload: the changed file is not a usable module", "agent", a.name(), "file", w.File, "error", err)
			a.emit(EventUpgradeRolledBack, -1, "hot reload: "+err.Error())
			continue
		}
		if err := a.upgrade(ctx, v, Strategy{}); err != nil {
			a.rt.logger.Warn("hot reload", "agent", a.name(), "file", w.File, "error", err)
		}
	}
}
