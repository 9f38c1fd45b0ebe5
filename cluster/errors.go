package cluster

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of package cluster; the typed errors below wrap them, so
// errors.Is works on whatever a call returns.
var (
	// ErrUnavailable: NATS could not be reached (at start, or for a remote
	// send while the connection was down for longer than WithSendTimeout).
	// See *UnavailableError.
	ErrUnavailable = errors.New("cluster: NATS unavailable")
	// ErrRejected: a message from another node failed authentication or
	// decoding and was refused (see Rejection).
	ErrRejected = errors.New("cluster: message rejected")
	// ErrTooLarge: an encoded message exceeds WithMaxMessageBytes (or the
	// NATS server's max_payload).
	ErrTooLarge = errors.New("cluster: message too large")
	// ErrInvalidConfig: a bad node name or option; see *ConfigError.
	ErrInvalidConfig = errors.New("cluster: invalid configuration")
	// ErrClosed: the node was closed.
	ErrClosed = errors.New("cluster: closed")
	// ErrIncompatible: what the cluster keeps in NATS was made by a
	// Caxton version this one cannot use as it is (New says what to do).
	ErrIncompatible = errors.New("cluster: incompatible state in NATS")
)

// ConfigError names the option or argument of New that is wrong.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("cluster: %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

func configErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// UnavailableError is NATS being out of reach: at start (Op "connect"),
// or for a send to another node (Op "send", with the receiver) that waited
// Waited for the connection to come back.
type UnavailableError struct {
	Op       string
	Receiver string
	Waited   time.Duration
	Err      error // the NATS error, if any
}

func (e *UnavailableError) Error() string {
	s := "cluster: " + e.Op
	if e.Receiver != "" {
		s += fmt.Sprintf(" to %q", e.Receiver)
	}
	s += fmt.Sprintf(": NATS unavailable (waited %s)", e.Waited.Round(time.Millisecond))
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrUnavailable and the NATS error.
func (e *UnavailableError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrUnavailable}
	}
	return []error{ErrUnavailable, e.Err}
}

// Rejection records one message from the wire that a node refused: not
// signed, signed by an unknown node or with a bad signature, tampered with,
// too large, malformed, or sent in the name of an agent the signing node
// does not host. The message is never delivered.
type Rejection struct {
	At      time.Time
	Subject string // where it arrived
	Node    string // the node it claimed to come from ("" if none)
	Reason  string
	Size    int // payload bytes
}

// Error makes a Rejection usable as an error (wrapping ErrRejected).
func (r Rejection) Error() string {
	return fmt.Sprintf("cluster: rejected message on %s from node %q: %s", r.Subject, r.Node, r.Reason)
}

// Unwrap returns ErrRejected.
func (r Rejection) Unwrap() error { return ErrRejected }
