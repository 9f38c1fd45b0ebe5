package server

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type openAPIDocument struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		OperationID string           `json:"operationId"`
		Role        string           `json:"x-caxton-role"`
		Security    []map[string]any `json:"security"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]any `json:"properties"`
			Required   []string       `json:"required"`
		} `json:"schemas"`
	} `json:"components"`
}

// TestOpenAPIMatchesRoutes walks the route table the mux serves and the
// checked-in document: a route or method in one and not the other, or a
// different operation id or role, fails.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc openAPIDocument
	require.NoError(t, json.Unmarshal(openAPIDoc, &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)

	rt, err := caxton.New()
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(t.Context()) })
	s, err := New(rt)
	require.NoError(t, err)

	served := map[string]route{}
	for _, r := range s.routes {
		served[strings.ToLower(r.method)+" "+r.pattern] = r
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := method + " " + path
			documented[key] = true
			r, ok := served[key]
			if !assert.Truef(t, ok, "openapi.json documents %s, which the server does not serve", key) {
				continue
			}
			assert.Equalf(t, r.op, op.OperationID, "operationId of %s", key)
			if r.role == RoleNone {
				assert.Emptyf(t, op.Security, "%s is public: its security must be []", key)
				assert.Emptyf(t, op.Role, "%s is public", key)
			} else {
				assert.NotEmptyf(t, op.Security, "%s needs a token: it must list a security requirement", key)
				assert.Equalf(t, r.role.String(), op.Role, "x-caxton-role of %s", key)
			}
		}
	}
	for key := range served {
		assert.Truef(t, documented[key], "the server serves %s, which openapi.json does not document", key)
	}
}

// TestOpenAPISchemasMatchTypes compares each schema with the JSON fields
// of the Go type the handlers encode or decode.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	var doc openAPIDocument
	require.NoError(t, json.Unmarshal(openAPIDoc, &doc))
	types := map[string]any{
		"Problem": Problem{}, "AgentStatus": AgentStatus{}, "RolloutStatus": RolloutStatus{},
		"DeploySpec": DeploySpec{}, "LimitsSpec": LimitsSpec{}, "UpgradeSpec": UpgradeSpec{},
		"RollbackSpec": RollbackSpec{}, "ScaleSpec": ScaleSpec{}, "SendResult": SendResult{},
		"DeadLetterView": DeadLetterView{}, "DeadLetterIDs": DeadLetterIDs{}, "DeadLetterResult": DeadLetterResult{},
		"LogView": LogView{}, "EventView": EventView{}, "AuditRecord": AuditRecord{}, "WSFrame": WSFrame{},
	}
	// Schemas of values that are not a Go struct of this package: the ACL
	// message (the acl package's codec, tested there) and the probes'
	// small status object.
	notGo := []string{"Message", "Status"}
	for name, schema := range doc.Components.Schemas {
		if slices.Contains(notGo, name) {
			continue
		}
		v, ok := types[name]
		if !assert.Truef(t, ok, "schema %s has no Go type in this test's table", name) {
			continue
		}
		fields, required := jsonFields(reflect.TypeOf(v))
		var documented []string
		for p := range schema.Properties {
			documented = append(documented, p)
		}
		slices.Sort(documented)
		assert.Equalf(t, fields, documented, "properties of schema %s vs the fields of %T", name, v)
		slices.Sort(schema.Required)
		for _, r := range schema.Required {
			assert.Containsf(t, required, r, "schema %s requires %s, which %T may leave out (omitempty)", name, r, v)
		}
	}
	for name := range types {
		_, ok := doc.Components.Schemas[name]
		assert.Truef(t, ok, "%s is encoded by the API but has no schema", name)
	}
}

// jsonFields returns a struct's JSON names, and those always written.
func jsonFields(t reflect.Type) (all, always []string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			always = append(always, name)
		}
	}
	slices.Sort(all)
	return all, always
}
