package acl

import (
	"errors"
	"fmt"
)

// ErrInvalid is the sentinel wrapped by every validation and decoding error
// of this package, so callers can test errors.Is(err, acl.ErrInvalid).
var ErrInvalid = errors.New("acl: invalid message")

// FieldError reports which field of a message is wrong and why. It wraps
// ErrInvalid.
type FieldError struct {
	Field  string // the FIPA / wire name of the field, e.g. "receiver" or "reply_by"
	Reason string // human-readable explanation
}

func (e *FieldError) Error() string { return fmt.Sprintf("acl: field %s: %s", e.Field, e.Reason) }

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
