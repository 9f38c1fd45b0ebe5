package mcp

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// maxNameLen bounds tool and server names, as the MCP specification does
// for tool names.
const maxNameLen = 128

// defaultSchema is the input schema of a tool that declares none: any
// JSON object.
const defaultSchema = `{"type":"object"}`

// checkName reports what is wrong with a host tool or server name, or ""
// if nothing is. Names are [A-Za-z0-9_.-]+: '/' is reserved for the
// namespace of imported tools ("server/tool") and '*' for grants.
func checkName(name string) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > maxNameLen:
		return fmt.Sprintf("is %d bytes long; at most %d are allowed", len(name), maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' {
			continue
		}
		if c == '/' {
			return "contains '/', which is reserved for the namespaces of imported tools (server/tool)"
		}
		return fmt.Sprintf("contains %q; names are made of letters, digits, '_', '.' and '-'", rune(c))
	}
	return ""
}

// checkRemoteName reports whether an imported tool's own name can be put
// in a namespace: grants match names textually, so whitespace and '*'
// would make a tool impossible to grant on its own.
func checkRemoteName(name string) bool {
	return name != "" && len(name) <= maxNameLen && !strings.ContainsAny(name, " \t\r\n*")
}

// compileSchema parses and resolves a tool's input schema, which must be
// an object schema: tool arguments are always a JSON object.
func compileSchema(raw json.RawMessage) (*jsonschema.Resolved, error) {
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("is not a JSON Schema: %v", err)
	}
	if s.Type != "object" {
		got := s.Type
		if got == "" && len(s.Types) > 0 {
			got = fmt.Sprint(s.Types)
		}
		return nil, fmt.Errorf(`must be an object schema ("type":"object"), has type %q`, got)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("cannot be resolved: %v", err)
	}
	return rs, nil
}

// checkArguments reports why args are not acceptable for a tool with
// schema rs (nil: any object will do), or "" if they are.
func checkArguments(rs *jsonschema.Resolved, args json.RawMessage) string {
	var v any
	if err := json.Unmarshal(args, &v); err != nil {
		return "arguments are not valid JSON: " + err.Error()
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Sprintf("arguments must be a JSON object, got %s", jsonKind(v))
	}
	if rs == nil {
		return ""
	}
	if err := rs.Validate(v); err != nil {
		return "arguments do not match the tool's input schema: " + err.Error()
	}
	return ""
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}
