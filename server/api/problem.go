package api

import (
	"errors"
	"fmt"
	"net/http"
)

// ProblemContentType is the media type of RFC 9457 problem details.
const ProblemContentType = "application/problem+json"

// ProblemTypeBase prefixes the type URI of every problem the API answers,
// so that a client can branch on the kind of failure ("…/not-found",
// "…/invalid-field") without parsing the title.
const ProblemTypeBase = "https://caxton.dev/problems/"

// Problem is an error answer as RFC 9457 problem details. Besides the
// standard members it names the request field (Field) or the agent
// (Agent) that the problem is about, so a script or a person can tell
// what to fix without reading prose. It implements error, so a client
// (package client, the caxton CLI) returns the server's answer as it came.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Field is the request field (JSON name, query parameter or form part)
	// that is wrong.
	Field string `json:"field,omitempty"`
	// Agent is the agent the problem is about.
	Agent string `json:"agent,omitempty"`
	// DeadLetter is the id of the dead letter a failed request became, for
	// a replay.
	DeadLetter string `json:"dead_letter,omitempty"`
}

// Error implements error.
func (p *Problem) Error() string {
	s := fmt.Sprintf("%d %s", p.Status, p.Title)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// Is makes errors.Is hold between an answer and the sentinel of its
// status — errors.Is(p, ErrNotFound) for a 404 — so that a client
// branches on the kind of failure, as the server's handlers do; Type
// tells finer kinds apart ("…/agent-not-found", "…/dead-lettered").
func (p *Problem) Is(target error) bool {
	if target == ErrAlreadyJoined {
		return p.Type == ProblemTypeBase+"already-joined"
	}
	want, ok := sentinelStatus[target]
	return ok && p.Status == want
}

var sentinelStatus = map[error]int{
	ErrBadRequest: http.StatusBadRequest, ErrUnauthorized: http.StatusUnauthorized,
	ErrForbidden: http.StatusForbidden, ErrNotFound: http.StatusNotFound,
	ErrConflict: http.StatusConflict, ErrTooLarge: http.StatusRequestEntityTooLarge,
	ErrUnsupportedMediaType: http.StatusUnsupportedMediaType, ErrRateLimited: http.StatusTooManyRequests,
	ErrDeadLettered: http.StatusBadGateway, ErrUnavailable: http.StatusServiceUnavailable,
	ErrNoReply: http.StatusGatewayTimeout,
}

// Sentinel errors of the management API. The server's handlers wrap them
// (package server re-exports them under the same names); on the client
// side a *Problem matches the one of its status (Problem.Is).
var (
	// ErrUnauthorized: the caller could not be identified (no or a bad
	// credential). Answered 401.
	ErrUnauthorized = errors.New("server: unauthorized")
	// ErrForbidden: the caller is known and may not do this (its role is
	// too low, or the agent is outside its scope). Answered 403.
	ErrForbidden = errors.New("server: forbidden")
	// ErrBadRequest: the request is malformed; see *FieldError. Answered 400.
	ErrBadRequest = errors.New("server: bad request")
	// ErrNotFound: no such route or resource. Answered 404.
	ErrNotFound = errors.New("server: not found")
	// ErrTooLarge: the request body is over the limit. Answered 413.
	ErrTooLarge = errors.New("server: request too large")
	// ErrRateLimited: the caller sent too many requests. Answered 429.
	ErrRateLimited = errors.New("server: rate limited")
	// ErrUnsupportedMediaType: the body is in a form the route does not
	// take (its Content-Type). Answered 415.
	ErrUnsupportedMediaType = errors.New("server: unsupported media type")
	// ErrConflict: the call conflicts with the agent's state (it exists
	// already, an upgrade is in progress, a client is joined as it).
	// Answered 409.
	ErrConflict = errors.New("server: conflict")
	// ErrDeadLettered: the request was dead-lettered (Problem.DeadLetter
	// names it, for a replay). Answered 502.
	ErrDeadLettered = errors.New("server: the request was dead-lettered")
	// ErrUnavailable: the agent or server cannot take the call now (a full
	// mailbox, an open breaker, shutting down). Answered 503.
	ErrUnavailable = errors.New("server: unavailable")
	// ErrNoReply: no reply came in time. Answered 504.
	ErrNoReply = errors.New("server: no reply in time")
)

// ErrAlreadyJoined: a client is already joined as the agent (a 409
// conflict of type …/already-joined).
var ErrAlreadyJoined = errors.New("server: a client is already joined as this agent")
