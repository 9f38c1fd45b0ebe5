package mcp

import (
	"errors"
	"fmt"
)

// Sentinel errors. Registry methods that return an error wrap one of these
// (or the go-sdk's error from a failed connection, or a context error), so
// callers branch with errors.Is. Tool calls never return errors: their
// outcome is a tool.Result the agent handles.
var (
	// ErrClosed: the registry is closed; nothing can be added or connected.
	ErrClosed = errors.New("mcp: registry closed")
	// ErrInvalid: a tool definition or server name is malformed; see
	// *DefinitionError for the field.
	ErrInvalid = errors.New("mcp: invalid definition")
	// ErrExists: a tool or server of that name is already registered.
	ErrExists = errors.New("mcp: name already registered")
)

// DefinitionError names the field of a Tool (or the server name given to
// Connect) that is wrong, and why.
type DefinitionError struct {
	Name   string // the tool or server name as given
	Field  string // "Name", "Handler", "InputSchema", "server name"
	Reason string
}

func (e *DefinitionError) Error() string {
	return fmt.Sprintf("mcp: %q: field %s: %s", e.Name, e.Field, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *DefinitionError) Unwrap() error { return ErrInvalid }

func defErr(name, field, format string, args ...any) error {
	return &DefinitionError{Name: name, Field: field, Reason: fmt.Sprintf(format, args...)}
}
