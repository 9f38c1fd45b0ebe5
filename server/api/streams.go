package api

import "time"

// LogView is one log record of an agent as the API shows it.
type LogView struct {
	Time    time.Time         `json:"time"`
	Level   string            `json:"level"`
	Agent   string            `json:"agent"`
	Message string            `json:"message"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// EventView is one lifecycle event as the API shows it.
type EventView struct {
	Seq     uint64    `json:"seq"`
	Kind    string    `json:"kind"`
	Agent   string    `json:"agent"`
	At      time.Time `json:"at"`
	Replica int       `json:"replica"`
	Version string    `json:"version,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	Missed  uint64    `json:"missed,omitempty"`
}

// Outcome is how an audited call ended.
type Outcome string

// The outcomes of audited calls.
const (
	OutcomeOK     Outcome = "ok"     // the action was carried out
	OutcomeFailed Outcome = "failed" // the action was allowed and failed (Status and Detail say why)
	OutcomeDenied Outcome = "denied" // the caller was refused: unidentified, not allowed or over its rate
)

// AuditRecord is one audited call: every management action (anything
// that is not a read) and every refused call, who made it, what, when and
// how it ended.
type AuditRecord struct {
	Time    time.Time `json:"time"`
	Subject string    `json:"subject"` // who ("" when the caller could not be identified)
	Role    string    `json:"role,omitempty"`
	Remote  string    `json:"remote"` // the client's address
	Method  string    `json:"method"`
	Path    string    `json:"path"`
	Action  string    `json:"action"` // the route's operation, e.g. "scaleAgent"
	Agent   string    `json:"agent,omitempty"`
	Outcome Outcome   `json:"outcome"`
	Status  int       `json:"status"`
	Detail  string    `json:"detail,omitempty"`
}
