package mcp

import (
	"fmt"
	"sync"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/tool"
	"golang.org/x/time/rate"
)

// sweepAt is the number of limiters above which allow forgets the ones
// that are full again: a full bucket is the same as a new one, so the map
// stays as small as the set of recently busy agents.
const sweepAt = 1024

// limiters holds one token bucket per agent, shared by all its tools.
type limiters struct {
	mu sync.Mutex
	m  map[acl.AgentID]*limiter
}

type limiter struct {
	rate  float64
	burst int
	lim   *rate.Limiter
}

// allow takes a token for agent at now, or says why it cannot. A grant
// whose Rate or Burst changed (the agent was respawned with another spec)
// gets a fresh bucket.
func (l *limiters) allow(agent acl.AgentID, g tool.Grant, now time.Time) string {
	if g.Rate <= 0 {
		return ""
	}
	l.mu.Lock()
	lm := l.m[agent]
	if lm == nil || lm.rate != g.Rate || lm.burst != g.Burst {
		if lm == nil && len(l.m) >= sweepAt {
			l.sweepLocked(now)
		}
		lm = &limiter{rate: g.Rate, burst: g.Burst, lim: rate.NewLimiter(rate.Limit(g.Rate), g.Burst)}
		l.m[agent] = lm
	}
	l.mu.Unlock()
	if lm.lim.AllowN(now, 1) {
		return ""
	}
	wait := time.Duration((1 - lm.lim.TokensAt(now)) / g.Rate * float64(time.Second))
	return fmt.Sprintf("agent %q is over its tool rate of %g calls/s (burst %d); retry in %v",
		agent, g.Rate, g.Burst, wait.Round(time.Millisecond))
}

func (l *limiters) sweepLocked(now time.Time) {
	for a, lm := range l.m {
		if lm.lim.TokensAt(now) >= float64(lm.burst) {
			delete(l.m, a)
		}
	}
}
