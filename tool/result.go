package tool

import "fmt"

// Result is the outcome of a tool call. It is a value, not an error,
// because every outcome — a denial and a timeout included — is something
// the agent handles; Err is there for code that prefers an error.
type Result struct {
	// Status is how the call ended.
	Status Status
	// Content is the result when Status is StatusOK (a tool's structured
	// result as JSON, otherwise its text), else a human-readable reason.
	Content []byte
	// Tool is the name of the tool called. The runtime and the guest SDK
	// fill it in, so that Err can name the tool; a Toolbox need not.
	Tool string
}

// Err returns nil when the call succeeded, otherwise a *CallError with the
// tool, the status and the reason.
func (r Result) Err() error {
	if r.Status == StatusOK {
		return nil
	}
	return &CallError{Tool: r.Tool, Status: r.Status, Reason: string(r.Content)}
}

// CallError is a tool call that did not succeed, as an error (see
// Result.Err). Use errors.As to get at the Status, for example to retry a
// StatusRateLimited call later.
type CallError struct {
	Tool   string // the tool called
	Status Status // never StatusOK
	Reason string // the Result's Content
}

// Error reads like `tool "lookup": denied: <reason>`.
func (e *CallError) Error() string {
	return fmt.Sprintf("tool %q: %s: %s", e.Tool, e.Status, e.Reason)
}
