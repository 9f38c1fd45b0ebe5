package mcp

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/caxton-go/caxton/tool"
	"github.com/google/jsonschema-go/jsonschema"
)

// NewTool returns a host tool whose arguments are an In and whose result is
// an Out, for Registry.Add: the input schema is derived from In (its
// exported fields and their json tags; a `jsonschema:"..."` tag describes
// a field to the model), so the registry checks every call against the Go
// type, and fn gets the arguments decoded and returns a value, marshalled
// to JSON as the result. call says who is calling (call.Agent) under what
// grant. In must be a struct (or a pointer to one): tool arguments are a
// JSON object. It fails with a *DefinitionError (ErrInvalid) naming the
// bad field when the schema cannot be derived or fn is nil.
func NewTool[In, Out any](name, description string, fn func(ctx context.Context, call tool.Call, in In) (Out, error)) (Tool, error) {
	if fn == nil {
		return Tool{}, defErr(name, "Handler", "nil function")
	}
	s, err := jsonschema.For[In](nil)
	if err != nil {
		return Tool{}, defErr(name, "InputSchema", "cannot derive a schema from %T: %v", *new(In), err)
	}
	if s.Type != "object" {
		return Tool{}, defErr(name, "InputSchema", "arguments are a JSON object, so In must be a struct, not %T", *new(In))
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return Tool{}, defErr(name, "InputSchema", "%v", err)
	}
	return Tool{Name: name, Description: description, InputSchema: raw,
		Handler: func(ctx context.Context, call tool.Call) ([]byte, error) {
			var in In
			if err := json.Unmarshal(call.Arguments, &in); err != nil {
				return nil, fmt.Errorf("arguments: %w", err)
			}
			out, err := fn(ctx, call, in)
			if err != nil {
				return nil, err
			}
			return json.Marshal(out)
		}}, nil
}
