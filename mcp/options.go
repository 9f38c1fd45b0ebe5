package mcp

import (
	"log/slog"

	"github.com/caxton-go/caxton/clock"
	"go.opentelemetry.io/otel/trace"
)

// DefaultAuditBuffer is how many recent calls Registry.Audit keeps unless
// WithAuditBuffer says otherwise.
const DefaultAuditBuffer = 1024

// Option configures a Registry. Options cannot fail: a nil argument keeps
// the default, so a registry is always usable.
type Option func(*Registry)

// WithClock sets the time source for rate limits and audit timestamps
// (default: the wall clock). Tests pass a *clock.Fake and drive rate
// limits by hand. Call timeouts use real time: they bound how long an agent
// waits, and a fake clock would let a stuck tool hang a test forever.
func WithClock(c clock.Clock) Option {
	return func(r *Registry) {
		if c != nil {
			r.clock = c
		}
	}
}

// WithAuditHook calls hook with the record of every tool call, after the
// call, on the caller's goroutine. It is where a host ships records to its
// own audit log; keep it quick, because the agent waits for it.
func WithAuditHook(hook func(AuditRecord)) Option {
	return func(r *Registry) { r.auditHook = hook }
}

// WithAuditBuffer sets how many recent records Registry.Audit keeps
// (default DefaultAuditBuffer). n <= 0 keeps none; the hook still sees
// every call.
func WithAuditBuffer(n int) Option {
	return func(r *Registry) { r.auditSize = max(n, 0) }
}

// WithTracerProvider makes every call a span "tool <name>", a child of the
// span in the caller's context — for an agent, its handling span — so tool
// calls show up inside the trace of the message that caused them.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(r *Registry) {
		if tp != nil {
			r.tracer = tp.Tracer(ScopeName)
		}
	}
}

// WithLogger sets where the registry logs panics in tool handlers, lost
// server sessions and reconnections, and (at debug level) every call.
// Default, and what a nil l means (as in every Caxton package): nothing is
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(r *Registry) {
		if l != nil {
			r.logger = l
		}
	}
}
