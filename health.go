package caxton

import (
	"context"
	"fmt"
	"slices"

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
