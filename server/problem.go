package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
)

// FieldError names the request field that is wrong and why. It wraps
// ErrBadRequest (or ErrTooLarge for a body or module over its limit).
type FieldError struct {
	Field  string
	Reason string
	// Err is the sentinel it wraps (ErrBadRequest when nil).
	Err error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("server: invalid %s: %s", e.Field, e.Reason)
}

// Unwrap returns the sentinel the error wraps.
func (e *FieldError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return ErrBadRequest
}

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// problemFor maps an error from a handler (the runtime's, the sandbox's or
// the server's own) to the problem details the client gets.
func problemFor(err error, agent acl.AgentID) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	p = &Problem{Detail: err.Error(), Agent: string(agent)}
	set := func(status int, kind, title string) {
		p.Status, p.Type, p.Title = status, ProblemTypeBase+kind, title
	}
	var fe *FieldError
	var ae *acl.FieldError
	var se *caxton.SpecError
	var sb *sandbox.Error
	var dl *caxton.DeadLetteredError
	var rb *caxton.RollbackError
	switch {
	case errors.As(err, &fe) && errors.Is(err, ErrTooLarge):
		set(http.StatusRequestEntityTooLarge, "too-large", "Request too large")
		p.Field = fe.Field
	case errors.As(err, &fe) && errors.Is(err, ErrUnsupportedMediaType):
		set(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type")
		p.Field = fe.Field
	case errors.As(err, &fe):
		set(http.StatusBadRequest, "invalid-field", "Invalid request field")
		p.Field = fe.Field
	case errors.As(err, &ae):
		set(http.StatusBadRequest, "invalid-message", "Invalid message field")
		p.Field = ae.Field
	case errors.As(err, &se):
		set(http.StatusBadRequest, "invalid-spec", "Invalid agent spec")
		p.Field = se.Field
	case errors.As(err, &sb):
		set(http.StatusUnprocessableEntity, "invalid-module", "The module cannot run")
		p.Field = "module"
	case errors.As(err, &dl):
		set(http.StatusBadGateway, "dead-lettered", "The agent could not handle the request")
		p.Agent, p.DeadLetter = string(dl.Receiver), dl.DeadLetter
	case errors.As(err, &rb):
		set(http.StatusConflict, "rolled-back", "The upgrade was rolled back")
		p.Agent = rb.Agent
	case errors.Is(err, ErrUnauthorized):
		set(http.StatusUnauthorized, "unauthorized", "Unauthorized")
	case errors.Is(err, ErrForbidden), errors.Is(err, caxton.ErrDenied):
		set(http.StatusForbidden, "forbidden", "Forbidden")
	case errors.Is(err, ErrRateLimited):
		set(http.StatusTooManyRequests, "rate-limited", "Too many requests")
	case errors.Is(err, ErrNotFound):
		set(http.StatusNotFound, "not-found", "Not found")
	case errors.Is(err, caxton.ErrAgentNotFound):
		set(http.StatusNotFound, "agent-not-found", "Agent not found")
	case errors.Is(err, caxton.ErrDeadLetterNotFound):
		set(http.StatusNotFound, "dead-letter-not-found", "Dead letter not found")
	case errors.Is(err, ErrAlreadyJoined):
		set(http.StatusConflict, "already-joined", "A client is already joined as the agent")
	case errors.Is(err, caxton.ErrAgentExists):
		set(http.StatusConflict, "agent-exists", "Agent already exists")
	case errors.Is(err, caxton.ErrUpgradeInProgress):
		set(http.StatusConflict, "upgrade-in-progress", "An upgrade is in progress")
	case errors.Is(err, caxton.ErrNoSubscribers):
		set(http.StatusNotFound, "no-subscribers", "Nobody subscribes to the topic")
	case errors.Is(err, caxton.ErrNoReply), errors.Is(err, context.DeadlineExceeded):
		set(http.StatusGatewayTimeout, "no-reply", "No reply in time")
	case errors.Is(err, caxton.ErrMailboxFull), errors.Is(err, caxton.ErrCircuitOpen):
		set(http.StatusServiceUnavailable, "unavailable", "The agent cannot take the message now")
	case errors.Is(err, caxton.ErrAgentFailed):
		set(http.StatusServiceUnavailable, "agent-failed", "The agent is failed; restart it")
	case errors.Is(err, caxton.ErrClosed):
		set(http.StatusServiceUnavailable, "closed", "The runtime is shutting down")
	case errors.Is(err, caxton.ErrInvalidSpec):
		set(http.StatusBadRequest, "invalid-spec", "Invalid agent spec")
	case errors.Is(err, acl.ErrInvalid):
		set(http.StatusBadRequest, "invalid-message", "Invalid message")
	case errors.Is(err, context.Canceled):
		set(499, "cancelled", "The request was cancelled")
	default:
		set(http.StatusInternalServerError, "internal", "Internal error")
	}
	return p
}

// writeProblem answers with p.
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Instance == "" && r != nil {
		p.Instance = r.URL.Path
	}
	w.Header().Set("Content-Type", ProblemContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="caxton"`)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
