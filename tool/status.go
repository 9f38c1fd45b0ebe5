package tool

import "fmt"

// Status is how a tool call ended, as the agent sees it. A denial, a rate
// limit or a tool's own error is a value the agent decides about — never a
// trap, and never a handler failure the runtime retries, because retrying
// a call the grant forbids cannot succeed and retrying one with side
// effects may repeat them.
//
// The numbers are part of the guest ABI (sandbox/ABI.md, "tool_call"):
// they cross the host/guest boundary in the high half of tool_call's return
// value, so they never change and new statuses only get new numbers.
type Status uint8

// Tool call statuses, numbered as on the guest ABI.
const (
	// StatusOK: the call succeeded; Result.Content is the result.
	StatusOK Status = iota
	// StatusError: the tool ran and reported an error (a handler's error or
	// panic, an MCP result marked isError); Content is its message.
	StatusError
	// StatusDenied: the agent's Grant does not allow this tool. It is
	// decided before the tool is looked up, so an agent cannot probe for
	// tools it may not use.
	StatusDenied
	// StatusRateLimited: the agent is over its Grant's rate; try later.
	StatusRateLimited
	// StatusTimeout: the call took longer than the Grant's Timeout.
	StatusTimeout
	// StatusUnavailable: no such tool, no toolbox, the tool's server
	// failed, or the caller gave up.
	StatusUnavailable
	// StatusBadArguments: the arguments are not a JSON object or break the
	// tool's input schema (or, from a guest, the name or arguments are out
	// of the ABI's bounds).
	StatusBadArguments
	// StatusTooLarge: the result is larger than the Grant's MaxResult, or
	// than the guest's buffer.
	StatusTooLarge

	numStatus // the number of statuses; keep it last
)

// statusNames are what String returns; agents and audit logs show them.
var statusNames = [numStatus]string{
	StatusOK:           "ok",
	StatusError:        "tool error",
	StatusDenied:       "denied",
	StatusRateLimited:  "rate limited",
	StatusTimeout:      "timeout",
	StatusUnavailable:  "unavailable",
	StatusBadArguments: "bad arguments",
	StatusTooLarge:     "too large",
}

// String returns the status in words ("ok", "denied", "too large", ...),
// as audit records, spans and error messages show it. A number no
// status has (a newer host talking to an older guest) is "Status(n)".
func (s Status) String() string {
	if s < numStatus {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}
