package mcp

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/caxton-go/caxton/internal/breaker"
	"github.com/caxton-go/caxton/tool"
)

// WithServerBreaker gives every connected server a circuit breaker: after
// failures calls in a row that found the server unavailable or timed out,
// calls to its tools fail at once (tool.StatusUnavailable, saying the
// circuit is open) for cooldown on the registry's clock; then one call is
// let through and its outcome closes or reopens the breaker. A tool's own
// error (tool.StatusError) is an answer, not a failure of the server.
// failures <= 0 (the default) means no breakers.
func WithServerBreaker(failures int, cooldown time.Duration) Option {
	return func(r *Registry) {
		if failures > 0 {
			r.brkFailures, r.brkCooldown = failures, max(cooldown, 0)
		}
	}
}

// ServerInfo describes a connected MCP server.
type ServerInfo struct {
	Name    string
	Breaker string // "closed", "open" or "half-open"; "" without WithServerBreaker
}

// Servers lists the connected servers, sorted by name.
func (r *Registry) Servers() []ServerInfo {
	r.mu.RLock()
	out := make([]ServerInfo, 0, len(r.servers))
	for name, s := range r.servers {
		si := ServerInfo{Name: name}
		if s.brk != nil {
			si.Breaker = s.brk.State().String()
		}
		out = append(out, si)
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b ServerInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// newServerBreaker makes a server's breaker, or nil without one.
func (r *Registry) newServerBreaker(name string) *breaker.Breaker {
	if r.brkFailures == 0 {
		return nil
	}
	return breaker.New(r.brkFailures, r.brkCooldown, r.clock.Now, func(st breaker.State) {
		r.logger.Warn("mcp: server circuit breaker", "server", name, "state", st.String())
	})
}

// allowServer refuses a call to a server whose breaker is open.
func allowServer(s *server) (tool.Result, bool) {
	if s.brk == nil || s.brk.Allow() {
		return tool.Result{}, true
	}
	return unavailable(fmt.Sprintf("server %q: circuit open after %d failed calls in a row; retry after %v",
		s.name, s.reg.brkFailures, s.reg.brkCooldown)), false
}

// recordServer feeds a server call's outcome to its breaker.
func recordServer(s *server, res tool.Result) {
	if s.brk != nil {
		s.brk.Record(res.Status != tool.StatusUnavailable && res.Status != tool.StatusTimeout)
	}
}
