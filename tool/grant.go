package tool

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Grant defaults, for the limits a Grant leaves zero.
const (
	// DefaultTimeout bounds a call when the Grant gives no Timeout: long
	// enough for a slow API, short enough that a stuck server does not
	// hold an agent for good.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxResult bounds a result when the Grant gives no MaxResult
	// (1 MiB). It is also the size of the Go guest SDK's result buffer
	// (guest.ToolBuffer), so a default grant and a Go guest agree.
	DefaultMaxResult = 1 << 20
)

// Grant is what one agent may call, and how: the allowlist, a rate, a
// timeout per call and a size limit per result. It is per agent
// (AgentSpec.Tools) rather than per toolbox, because agents sharing a
// runtime rarely deserve the same tools.
//
// The zero Grant allows nothing: tools are denied by default. Zero limits
// take the defaults (see WithDefaults).
type Grant struct {
	// Allow lists what the agent may call: tool names ("lookup"),
	// namespaces ("files/*": every tool imported from the MCP server
	// connected as files) and "*" (everything).
	Allow []string
	// Rate limits the agent's calls per second, across all its tools
	// (0: unlimited). Burst is how many may come at once (default: Rate
	// rounded up, at least 1).
	Rate  float64
	Burst int
	// Timeout bounds each call (default DefaultTimeout).
	Timeout time.Duration
	// MaxResult bounds a result's size in bytes (default
	// DefaultMaxResult); a larger one is StatusTooLarge.
	MaxResult int
}

// Allows reports whether the grant lets the agent call the tool named
// name: an entry equal to it, "*", or "ns/*" for a name "ns/...".
func (g Grant) Allows(name string) bool {
	for _, a := range g.Allow {
		switch {
		case a == "*" || a == name:
			return true
		case strings.HasSuffix(a, "/*") && strings.HasPrefix(name, a[:len(a)-1]):
			return true
		}
	}
	return false
}

// WithDefaults returns g with its zero limits replaced by the defaults:
// Burst from Rate, DefaultTimeout and DefaultMaxResult. Negative limits are
// treated as zero, so that a Toolbox called outside the runtime (which
// validates grants at Spawn) is lenient rather than unusable.
func (g Grant) WithDefaults() Grant {
	if g.Rate > 0 && g.Burst <= 0 {
		g.Burst = max(1, int(g.Rate+0.999999))
	}
	if g.Timeout <= 0 {
		g.Timeout = DefaultTimeout
	}
	if g.MaxResult <= 0 {
		g.MaxResult = DefaultMaxResult
	}
	return g
}

// Validate reports the first thing wrong with g as a *GrantError naming
// the field: an Allow entry that is not a tool name, "namespace/*" or "*"
// (a typo there would silently grant nothing, or more than meant), or a
// negative limit. The runtime calls it when an agent is spawned, so a bad
// grant fails loudly instead of denying every call.
func (g Grant) Validate() error {
	for i, a := range g.Allow {
		if a == "" || strings.ContainsAny(a, " \t\n") || strings.HasSuffix(a, "/") ||
			strings.Contains(strings.TrimSuffix(a, "/*"), "*") && a != "*" {
			return grantErr("Allow", "entry %d: %q is not a tool name, a namespace/* or *", i, a)
		}
	}
	switch {
	case g.Rate < 0:
		return grantErr("Rate", "%v is negative", g.Rate)
	case g.Burst < 0:
		return grantErr("Burst", "%d is negative", g.Burst)
	case g.Timeout < 0:
		return grantErr("Timeout", "%v is negative", g.Timeout)
	case g.MaxResult < 0:
		return grantErr("MaxResult", "%d is negative", g.MaxResult)
	}
	return nil
}

// ErrInvalidGrant is wrapped by every *GrantError, for callers that only
// need to know that a grant was refused.
var ErrInvalidGrant = errors.New("tool: invalid grant")

// GrantError names the field of a Grant that is wrong, and why. Field is
// the Go field name ("Allow", "Rate", "Burst", "Timeout", "MaxResult"), so
// a caller that embeds a Grant can prefix its own path (the runtime
// reports "Tools.Rate").
type GrantError struct {
	Field  string
	Reason string
}

func (e *GrantError) Error() string {
	return fmt.Sprintf("tool: grant field %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidGrant.
func (e *GrantError) Unwrap() error { return ErrInvalidGrant }

func grantErr(field, format string, args ...any) error {
	return &GrantError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
