package caxton

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// HealthChecker is implemented by a handler that can tell whether it is fit
// to work (its database reachable, its model loaded). The runtime calls it
// before an upgraded version takes any message, and from Health. It may be
// called while the handler handles a message, so it must be safe for that.
type HealthChecker interface {
	CheckHealth(ctx context.Context) error
}

// HealthStatus grades an agent.
type HealthStatus uint8

// Health grades.
const (
	Healthy  HealthStatus = iota // running, probes pass, breaker closed
	Degraded                     // running, but a probe fails on some instance or the breaker is open
	Down                         // failed, stopped, or every instance's probe fails
)

func (s HealthStatus) String() string {
	switch s {
	case Healthy:
		return "healthy"
	case Degraded:
		return "degraded"
	case Down:
		return "down"
	}
	return fmt.Sprintf("HealthStatus(%d)", uint8(s))
}

// AgentHealth is one agent's grade and why.
type AgentHealth struct {
	Agent   acl.AgentID
	Status  HealthStatus
	Reasons []string // empty when healthy
}

// HealthReport grades the runtime's agents: Status is the worst of them
// (Healthy with no agents).
type HealthReport struct {
	Status HealthStatus
	Agents []AgentHealth // sorted by name
}

// Health grades every agent now: its state, its circuit breaker, and the
// probe of each instance whose handler is a HealthChecker (run with ctx,
// which bounds them). Stopped agents are Down with reason "stopped".
func (rt *Runtime) Health(ctx context.Context) HealthReport {
	var rep HealthReport
	for _, a := range rt.agentsSnapshot() {
		if a.internal {
			continue
		}
		h := a.health(ctx)
		rep.Status = max(rep.Status, h.Status)
		rep.Agents = append(rep.Agents, h)
	}
	slices.SortFunc(rep.Agents, func(x, y AgentHealth) int { return cmpString(x.Agent, y.Agent) })
	return rep
}

func (a *agent) health(ctx context.Context) AgentHealth {
	h := AgentHealth{Agent: a.name()}
	switch a.state() {
	case StateFailed:
		reason := "failed"
		if p := a.lastErr.Load(); p != nil {
			reason += ": " + *p
		}
		return AgentHealth{Agent: h.Agent, Status: Down, Reasons: []string{reason}}
	case StateStopped:
		return AgentHealth{Agent: h.Agent, Status: Down, Reasons: []string{"stopped"}}
	}
	if st := a.brk.state(); st != BreakerClosed {
		h.Status = Degraded
		h.Reasons = append(h.Reasons, "circuit breaker "+st.String())
	}
	probed, failing := 0, 0
	for _, in := range a.all() {
		s := in.live.Load()
		if s == nil {
			continue // lazy, or being replaced
		}
		hc, ok := s.h.(HealthChecker)
		if !ok {
			continue
		}
		probed++
		if err := hc.CheckHealth(ctx); err != nil {
			failing++
			h.Reasons = append(h.Reasons, fmt.Sprintf("replica %d: %v", in.replica, err))
		}
	}
	switch {
	case failing > 0 && failing == probed:
		h.Status = Down
	case failing > 0:
		h.Status = max(h.Status, Degraded)
	}
	return h
}

// WithHealthProbe grades every running agent every interval on the
// runtime's clock (see Runtime.Health; each round's probes are bounded by
// the interval) and reports changes as events: EventUnhealthy with the
// reasons when an agent stops being Healthy, EventHealthy when it is again.
func WithHealthProbe(every time.Duration) Option {
	return func(cfg *config) error {
		if every <= 0 {
			return specErr("WithHealthProbe", "%v: the interval must be positive", every)
		}
		cfg.healthEvery = every
		return nil
	}
}

// probeHealth is WithHealthProbe's loop; it ends with ctx (Close).
func (rt *Runtime) probeHealth(ctx context.Context, every time.Duration) {
	last := map[*agent]HealthStatus{}
	for {
		t := rt.clock.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		seen := map[*agent]bool{}
		for _, a := range rt.agentsSnapshot() {
			if a.internal || a.state() != StateRunning {
				continue
			}
			seen[a] = true
			pctx, cancel := context.WithTimeout(ctx, every)
			h := a.health(pctx)
			cancel()
			was := last[a]
			last[a] = h.Status
			switch {
			case h.Status != Healthy && was == Healthy:
				a.emit(EventUnhealthy, -1, strings.Join(h.Reasons, "; "))
			case h.Status == Healthy && was != Healthy:
				a.emit(EventHealthy, -1, "")
			}
		}
		for a := range last {
			if !seen[a] {
				delete(last, a) // removed or stopped: its next probe starts afresh
			}
		}
	}
}
