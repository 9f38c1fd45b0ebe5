package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
)

// faceSchemaFor infers T's JSON schema, with enums for performatives and
// selectors.
func faceSchemaFor[T any]() (*jsonschema.Schema, error) {
	var perfs []any
	for _, p := range acl.Performatives() {
		perfs = append(perfs, p.String())
	}
	return jsonschema.For[T](&jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[facePerformative](): {Type: "string", Enum: perfs},
		reflect.TypeFor[faceSelector](): {Type: "string", Enum: []any{
			string(faceLowestCost), string(faceHighestScore), string(faceFirstN), string(faceSelectNone)}},
	}})
}

// faceInputSchema is faceSchemaFor for a tool's arguments, made plain for
// clients. Inference types a Go slice ["null","array"] (a nil slice
// marshals to null); clients that build arguments from the schema (the
// official inspector CLI among them) then cannot pass a list at all. An
// argument is never usefully null, so lists are plain arrays, and an
// optional one defaults to the empty list.
func faceInputSchema[T any]() (*jsonschema.Schema, error) {
	s, err := faceSchemaFor[T]()
	if err != nil {
		return nil, err
	}
	facePlainArrays(s)
	return s, nil
}

func facePlainArrays(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	for name, p := range s.Properties {
		if slices.Equal(p.Types, []string{"null", "array"}) {
			p.Type, p.Types = "array", nil
			if !slices.Contains(s.Required, name) {
				p.Default = json.RawMessage("[]")
			}
		}
		facePlainArrays(p)
	}
	facePlainArrays(s.Items)
}

// faceAddTool registers a typed tool with schemas inferred from In and
// Out; it reports a schema problem as an error instead of AddTool's panic.
// The input schema is also kept in inputs, for faceCheckArguments.
func faceAddTool[In, Out any](s *sdk.Server, inputs map[string]*jsonschema.Schema, t *sdk.Tool, h sdk.ToolHandlerFor[In, Out]) (err error) {
	in, err := faceInputSchema[In]()
	if err != nil {
		return err
	}
	out, err := faceSchemaFor[Out]()
	if err != nil {
		return err
	}
	t.InputSchema, t.OutputSchema = in, out
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	sdk.AddTool(s, t, withClientTrace(h))
	inputs[t.Name] = in
	return nil
}

// withClientTrace runs h in the context the client's request carries in
// params._meta (W3C trace context and baggage, per the MCP semantic
// conventions), so the messages a tool sends continue the client's trace.
func withClientTrace[In, Out any](h sdk.ToolHandlerFor[In, Out]) sdk.ToolHandlerFor[In, Out] {
	return func(ctx context.Context, req *sdk.CallToolRequest, in In) (*sdk.CallToolResult, Out, error) {
		if req != nil && req.Params != nil && len(req.Params.Meta) > 0 {
			ctx = telemetry.DefaultPropagator().Extract(ctx, telemetry.MetaCarrier(req.Params.Meta))
		}
		return h(ctx, req, in)
	}
}

// faceCheckArguments answers a tools/call whose arguments do not match the
// tool's input schema with a tool error naming the argument and what it
// should be, before the SDK's own validation, whose messages name a JSON
// pointer and print a null as `<invalid reflect.Value> has type "null"`.
// (Some clients send null for a value they could not convert, such as a
// non-numeric "max".) The SDK still validates what passes.
func faceCheckArguments(inputs map[string]*jsonschema.Schema) sdk.Middleware {
	return func(next sdk.MethodHandler) sdk.MethodHandler {
		return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
			if call, ok := req.(*sdk.CallToolRequest); ok && call.Params != nil {
				if schema := inputs[call.Params.Name]; schema != nil {
					if err := faceArguments(schema, call.Params.Arguments); err != nil {
						res := &sdk.CallToolResult{}
						res.SetError(err)
						return res, nil
					}
				}
			}
			return next(ctx, method, req)
		}
	}
}

// faceArguments checks raw arguments against a tool's object schema: no
// unknown arguments, the required ones present, each of its type (list
// items too) and among its enumerated values.
func faceArguments(schema *jsonschema.Schema, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	var args map[string]json.RawMessage
	if err := json.Unmarshal(raw, &args); err != nil {
		var v any
		_ = json.Unmarshal(raw, &v)
		return fmt.Errorf("invalid arguments: expected a JSON object of named arguments, got %s", faceDescribe(v))
	}
	names := make([]string, 0, len(args))
	for name := range args {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := schema.Properties[name]
		if p == nil {
			return faceArgErr(name, "this tool has no such argument (it takes: %s)", strings.Join(faceSortedKeys(schema.Properties), ", "))
		}
		var v any
		if err := json.Unmarshal(args[name], &v); err != nil {
			return faceArgErr(name, "not valid JSON: %v", err)
		}
		if err := faceValue(name, p, v); err != nil {
			return err
		}
	}
	for _, name := range schema.Required {
		if _, ok := args[name]; !ok {
			return faceArgErr(name, "required, but missing")
		}
	}
	return nil
}

// faceValue checks one value against its (property or item) schema.
func faceValue(field string, s *jsonschema.Schema, v any) error {
	if want := s.Type; want != "" && !faceIsType(v, want) {
		return faceArgErr(field, "expected %s, got %s", faceTypeName(want), faceDescribe(v))
	}
	if len(s.Enum) > 0 && !faceInEnum(s.Enum, v) {
		allowed := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			allowed[i] = fmt.Sprint(e)
		}
		return faceArgErr(field, "%s is not one of the allowed values: %s", faceDescribe(v), strings.Join(allowed, ", "))
	}
	if items, ok := v.([]any); ok && s.Items != nil {
		for i, item := range items {
			if err := faceValue(fmt.Sprintf("%s[%d]", field, i), s.Items, item); err != nil {
				return err
			}
		}
	}
	return nil
}

// faceInEnum reports whether v is one of enum. Lists and objects, which
// == cannot compare, are never enumerated values here.
func faceInEnum(enum []any, v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return false
	}
	return slices.Contains(enum, v)
}

// faceIsType reports whether v, as encoding/json decodes into any, is of
// the JSON Schema type t.
func faceIsType(v any, t string) bool {
	switch v := v.(type) {
	case nil:
		return t == "null"
	case bool:
		return t == "boolean"
	case string:
		return t == "string"
	case []any:
		return t == "array"
	case map[string]any:
		return t == "object"
	case float64:
		return t == "number" || (t == "integer" && v == math.Trunc(v) && !math.IsInf(v, 0))
	}
	return false
}

// faceTypeName says what a JSON Schema type expects, for the model.
func faceTypeName(t string) string {
	switch t {
	case "integer":
		return "an integer (a whole number such as 5000)"
	case "number":
		return "a number"
	case "string":
		return "a string"
	case "boolean":
		return "true or false"
	case "array":
		return "a list (a JSON array, such as [\"a\", \"b\"])"
	case "object":
		return "an object"
	}
	return t
}

// faceDescribe names what a decoded JSON value is, quoting short ones.
func faceDescribe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null (clients send null for a value they could not convert, such as a number that is not numeric)"
	case bool:
		return fmt.Sprintf("the boolean %v", v)
	case string:
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("the string %q", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func faceSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
