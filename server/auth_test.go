package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// documentedRoutes lists the API's operations from the OpenAPI document
// (which a test keeps equal to the served routes), with {name} filled in.
func documentedRoutes(t *testing.T, agent string) (routes []struct{ method, path, role string }) {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Role string `json:"x-caxton-role"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(server.OpenAPI(), &doc))
	for path, ops := range doc.Paths {
		for method, op := range ops {
			routes = append(routes, struct{ method, path, role string }{
				strings.ToUpper(method), strings.ReplaceAll(path, "{name}", agent), op.Role})
		}
	}
	return routes
}

func TestEveryRouteRefusesWithoutToken(t *testing.T) {
	f := newFixture(t, nil)
	f.deploy("echo", echoWasm, nil)
	n := 0
	for _, r := range documentedRoutes(t, "echo") {
		if r.role == "" {
			f.ok(http.StatusOK, nil, r.method, r.path, "", nil) // the probes and the document
			continue
		}
		n++
		for _, tok := range []string{"", "not-a-known-token-at-all"} {
			status, body := f.do(r.method, r.path, tok, `{}`)
			require.Equalf(t, http.StatusUnauthorized, status, "%s %s with %q: %s", r.method, r.path, tok, body)
		}
	}
	require.Greater(t, n, 15)
	denied := 0
	for _, a := range f.srv.Audit() {
		if a.Outcome == server.OutcomeDenied {
			denied++
			assert.Equal(t, http.StatusUnauthorized, a.Status)
			assert.Empty(t, a.Subject)
		}
	}
	assert.Equal(t, 2*n, denied, "every refused call is audited")
	// The runtime's own trail has each refused call too, as an unidentified
	// caller's, so one verified chain holds what the API was asked.
	refused := 0
	for _, a := range f.rt.Audit() {
		if a.Kind == caxton.AuditCall && !a.Allowed {
			refused++
			assert.Equal(t, "identity", a.Subject)
			assert.True(t, strings.HasPrefix(a.Action, "http "), a.Action)
		}
	}
	assert.Equal(t, 2*n, refused)
	require.NoError(t, caxton.VerifyAudit(f.rt.Audit()))
}

func TestViewersCannotMutate(t *testing.T) {
	f := newFixture(t, nil)
	f.deploy("echo", echoWasm, nil)
	for _, r := range documentedRoutes(t, "echo") {
		if r.role == "" || r.role == "viewer" {
			continue
		}
		p := f.problem(http.StatusForbidden, r.method, r.path, viewerToken, `{}`)
		assert.Contains(t, p.Detail, "victor")
		if r.role == "admin" {
			f.problem(http.StatusForbidden, r.method, r.path, operatorToken, `{}`)
		}
	}
	// Nothing changed.
	var st server.AgentStatus
	f.ok(http.StatusOK, &st, "GET", "/v1/agents/echo", viewerToken, nil)
	assert.Equal(t, "running", st.State)
	assert.Equal(t, uint64(0), st.Processed)
	// In the runtime's trail: the viewer's refused calls under its name, and
	// the deployment that was allowed.
	var victor, allowed int
	for _, a := range f.rt.Audit() {
		switch {
		case a.Kind != caxton.AuditCall:
		case strings.HasPrefix(a.Subject, "identity:victor"):
			victor++
			assert.False(t, a.Allowed, "%+v", a)
		case a.Allowed && a.Target == "echo":
			allowed++
		}
	}
	assert.Positive(t, victor)
	assert.Positive(t, allowed, "the deployment")
}

func TestScopedTokensSeeOnlyTheirAgents(t *testing.T) {
	f := newFixture(t, nil)
	f.deploy("echo", echoWasm, nil)
	f.deploy("other", echoWasm, nil)

	var list []server.AgentStatus
	f.ok(http.StatusOK, &list, "GET", "/v1/agents", scopedToken, nil)
	require.Len(t, list, 1)
	assert.Equal(t, "echo", list[0].Name)

	for _, r := range documentedRoutes(t, "other") {
		if !strings.Contains(r.path, "/agents/other") || r.role == "admin" {
			continue
		}
		p := f.problem(http.StatusForbidden, r.method, r.path, scopedToken, `{}`)
		assert.Contains(t, p.Detail, `"other"`)
	}
	for _, path := range []string{"/v1/messages", "/v1/requests"} {
		f.problem(http.StatusForbidden, "POST", path, scopedToken, `{"performative":"request","receiver":["echo","other"]}`)
	}
	f.problem(http.StatusForbidden, "GET", "/v1/events?agent=other", scopedToken, nil)
	assert.Equal(t, "mine", f.ask("echo", "mine"))
	f.ok(http.StatusOK, nil, "POST", "/v1/agents/echo/scale", scopedToken, map[string]any{"replicas": 2})

	// Dead letters of other agents are invisible and cannot be replayed.
	f.ok(http.StatusOK, nil, "POST", "/v1/agents/other/stop", adminToken, nil)
	f.ok(http.StatusAccepted, nil, "POST", "/v1/messages", adminToken, map[string]any{"performative": "inform", "receiver": "other"})
	f.ok(http.StatusNoContent, nil, "DELETE", "/v1/agents/other", adminToken, nil)
	var dls []server.DeadLetterView
	f.ok(http.StatusOK, &dls, "GET", "/v1/deadletters", adminToken, nil)
	require.Len(t, dls, 1)
	f.ok(http.StatusOK, &dls, "GET", "/v1/deadletters", scopedToken, nil)
	assert.Empty(t, dls)
	f.problem(http.StatusNotFound, "POST", "/v1/deadletters/replay", scopedToken, map[string]any{"ids": []string{"x"}})
	var res server.DeadLetterResult
	f.ok(http.StatusOK, &res, "POST", "/v1/deadletters/replay", scopedToken, map[string]any{"all": true})
	assert.Equal(t, 0, res.Count)
}

func TestDenyByDefaultAndRateLimit(t *testing.T) {
	f := newFixture(t, nil, server.WithRateLimit(1, 3))
	for range 3 {
		f.ok(http.StatusOK, nil, "GET", "/v1/agents", viewerToken, nil)
	}
	p := f.problem(http.StatusTooManyRequests, "GET", "/v1/agents", viewerToken, nil)
	assert.Equal(t, server.ProblemTypeBase+"rate-limited", p.Type)
	f.ok(http.StatusOK, nil, "GET", "/v1/agents", adminToken, nil) // another caller's bucket

	var audit []server.AuditRecord
	f.ok(http.StatusOK, &audit, "GET", "/v1/audit", adminToken, nil)
	require.NotEmpty(t, audit)
	last := audit[len(audit)-1]
	assert.Equal(t, "victor", last.Subject)
	assert.Equal(t, server.OutcomeDenied, last.Outcome)
	assert.Equal(t, http.StatusTooManyRequests, last.Status)
}

func TestNoAuthenticatorRefusesAll(t *testing.T) {
	rtF := newFixture(t, nil) // for the runtime only
	srv, err := server.New(rtF.rt)
	require.NoError(t, err)
	req, err := http.NewRequest("GET", "/v1/agents", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := newRecorder()
	srv.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Body.String(), "deny by default")
}

func TestStaticTokensRefuseBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		toks  []server.Token
		field string
	}{
		{"short", []server.Token{{Token: "short", Subject: "a", Role: server.RoleAdmin}}, "tokens[0].token"},
		{"no subject", []server.Token{{Token: adminToken, Role: server.RoleAdmin}}, "tokens[0].subject"},
		{"no role", []server.Token{{Token: adminToken, Subject: "a"}}, "tokens[0].role"},
		{"duplicate", []server.Token{{Token: adminToken, Subject: "a", Role: server.RoleAdmin}, {Token: adminToken, Subject: "b", Role: server.RoleViewer}}, "tokens[1].token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.StaticTokens(tc.toks...)
			var fe *server.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
			assert.True(t, errors.Is(err, server.ErrBadRequest))
		})
	}
	var r server.Role
	require.NoError(t, r.UnmarshalText([]byte("Operator")))
	assert.Equal(t, server.RoleOperator, r)
	assert.Error(t, r.UnmarshalText([]byte("root")))
	assert.True(t, server.Identity{Agents: []acl.AgentID{"a"}}.Scoped())
}

// The API's caller is the identity the runtime's own authorizer sees:
// a lifecycle operation it refuses is a 403 problem naming the agent.
func TestRuntimeAuthorizerSeesTheCaller(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	authz := caxton.AuthorizerFunc(func(ctx context.Context, req caxton.AuthzRequest) error {
		if req.Action == caxton.ActionSend {
			return nil
		}
		mu.Lock()
		seen = append(seen, req.Subject.Name+" "+strings.Join(req.Subject.Roles, ",")+" "+req.Target)
		mu.Unlock()
		if req.Subject.Name == "olga" {
			return errors.New("olga may not change agents today")
		}
		return nil
	})
	f := newFixture(t, []caxton.Option{caxton.WithAuthorizer(authz)})
	f.deploy("echo", echoWasm, nil)
	p := f.problem(http.StatusForbidden, "POST", "/v1/agents/echo/stop", operatorToken, nil)
	assert.Equal(t, "echo", p.Agent)
	assert.Contains(t, p.Detail, "olga may not change agents today")
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, seen, "alice admin echo")
	assert.Contains(t, seen, "olga operator echo")
}
