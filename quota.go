package caxton

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// ErrQuotaExceeded: an agent sent faster or more than its Quota allows, or
// a Spawn or Scale would pass the runtime's caps; see *QuotaError.
var ErrQuotaExceeded = errors.New("caxton: quota exceeded")

// QuotaError names the quota that was hit.
type QuotaError struct {
	Agent acl.AgentID
	Quota string // "send rate", "bytes per second", "outbox per batch", "agents", "instances"
	Limit float64
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("caxton: agent %q: %s quota of %v exceeded", e.Agent, e.Quota, e.Limit)
}

// Unwrap returns ErrQuotaExceeded.
func (e *QuotaError) Unwrap() error { return ErrQuotaExceeded }

// Quota limits what an agent may send, so a hostile or broken agent cannot
// flood the bus; native and wasm agents alike. A send over a quota fails
// with a *QuotaError (a wasm agent gets a FIPA refuse), is audited, and
// never waits: other agents are not held up. Zero fields are unlimited.
type Quota struct {
	SendRate       float64 // messages per second, on the runtime's clock (token bucket)
	SendBurst      int     // messages sent at once above the rate (default: one second's worth, at least 1)
	BytesPerSecond int     // content bytes per second (the burst is one second's worth)
	OutboxPerBatch int     // messages a wasm agent's batch may emit; the rest are refused
}

func (q Quota) withDefaults() (Quota, error) {
	switch {
	case q.SendRate < 0 || math.IsNaN(q.SendRate) || math.IsInf(q.SendRate, 0):
		return q, specErr("Quota.SendRate", "%v is not a rate", q.SendRate)
	case q.SendBurst < 0:
		return q, specErr("Quota.SendBurst", "%d is negative", q.SendBurst)
	case q.BytesPerSecond < 0:
		return q, specErr("Quota.BytesPerSecond", "%d is negative", q.BytesPerSecond)
	case q.OutboxPerBatch < 0:
		return q, specErr("Quota.OutboxPerBatch", "%d is negative", q.OutboxPerBatch)
	}
	if q.SendRate > 0 && q.SendBurst == 0 {
		q.SendBurst = max(int(math.Ceil(q.SendRate)), 1)
	}
	return q, nil
}

// bucket is a token bucket on the runtime's clock.
type bucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// take takes n tokens if there are as many.
func (b *bucket) take(n float64, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}

// limiter is an agent's send quotas; nil without any.
type limiter struct {
	sends, bytes *bucket
}

func newLimiter(q Quota, now time.Time) *limiter {
	if q.SendRate == 0 && q.BytesPerSecond == 0 {
		return nil
	}
	l := &limiter{}
	if q.SendRate > 0 {
		l.sends = newBucket(q.SendRate, q.SendBurst, now)
	}
	if q.BytesPerSecond > 0 {
		l.bytes = newBucket(float64(q.BytesPerSecond), q.BytesPerSecond, now)
	}
	return l
}

// checkQuota applies a sending agent's quotas to m.
func (rt *Runtime) checkQuota(a *agent, m *acl.Message) error {
	l := a.quota
	now := rt.clock.Now()
	var qe *QuotaError
	switch {
	case l.sends != nil && !l.sends.take(1, now):
		qe = &QuotaError{Agent: a.name(), Quota: "send rate", Limit: a.spec.Quota.SendRate}
	case l.bytes != nil && !l.bytes.take(float64(len(m.Content)), now):
		qe = &QuotaError{Agent: a.name(), Quota: "bytes per second", Limit: float64(a.spec.Quota.BytesPerSecond)}
	default:
		return nil
	}
	rt.quotaHit(a, m, qe)
	return qe
}

// quotaHit audits a quota hit and tells the agent with a FIPA refuse. A
// flood must not turn into a flood of records and notices (a guest that
// answers every notice with another send would feed itself), so both are
// bounded: one per second per agent, carrying the count of hits so far
// (AgentInfo.QuotaHits counts every one).
func (rt *Runtime) quotaHit(a *agent, m *acl.Message, qe *QuotaError) {
	rt.quotaHitAs(a, "send", targetsOf(m), m, qe, "")
}

// quotaHitAs is quotaHit for any action; detail, if any, follows the
// error in the audit record.
func (rt *Runtime) quotaHitAs(a *agent, action, target string, m *acl.Message, qe *QuotaError, detail string) {
	hits := a.stats.quotaHits.Add(1)
	now := rt.clock.Now()
	last := a.quotaAudited.Load()
	if now.UnixNano()-last < int64(time.Second) && last != 0 || !a.quotaAudited.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	if detail != "" {
		detail = ": " + detail
	}
	rt.auditf(AuditQuota, "agent:"+string(a.name()), action, target, false, fmt.Sprintf("%s%s (%d hits so far)", qe.Error(), detail, hits), "")
	if m != nil {
		rt.notifyRefuse(a, m, qe)
	}
}

func targetsOf(m *acl.Message) string {
	if m == nil {
		return ""
	}
	s := make([]string, len(m.Receivers))
	for i, r := range m.Receivers {
		s[i] = string(r)
	}
	return fmt.Sprint(s)
}

// WithMaxAgents caps the agents a runtime hosts (default: no cap); a Spawn
// past it fails with a *QuotaError.
func WithMaxAgents(n int) Option {
	return func(cfg *config) error {
		if n <= 0 {
			return specErr("WithMaxAgents", "%d: must be positive", n)
		}
		cfg.maxAgents = n
		return nil
	}
}

// WithMaxInstances caps the instances (replicas) of all agents together
// (default: no cap); a Spawn or Scale past it fails with a *QuotaError.
func WithMaxInstances(n int) Option {
	return func(cfg *config) error {
		if n <= 0 {
			return specErr("WithMaxInstances", "%d: must be positive", n)
		}
		cfg.maxInstances = n
		return nil
	}
}

// checkCaps reports whether adding agents and instances stays within the
// runtime's caps.
func (rt *Runtime) checkCaps(name acl.AgentID, agents, instances int) error {
	if rt.cfg.maxAgents == 0 && rt.cfg.maxInstances == 0 {
		return nil
	}
	na, ni := 0, 0
	for _, a := range rt.agentsSnapshot() {
		if !a.internal {
			na++
			ni += len(a.all())
		}
	}
	var qe *QuotaError
	switch {
	case rt.cfg.maxAgents > 0 && na+agents > rt.cfg.maxAgents:
		qe = &QuotaError{Agent: name, Quota: "agents", Limit: float64(rt.cfg.maxAgents)}
	case rt.cfg.maxInstances > 0 && ni+instances > rt.cfg.maxInstances:
		qe = &QuotaError{Agent: name, Quota: "instances", Limit: float64(rt.cfg.maxInstances)}
	default:
		return nil
	}
	rt.auditf(AuditQuota, "host", "spawn or scale", string(name), false, qe.Error(), "")
	return qe
}
