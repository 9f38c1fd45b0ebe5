package mcpserver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/mcp/mcpserver"
)

// TestHTTPPassesTheCallersIdentityToTheRuntime: a lifecycle operation a
// tool performs (replay_dead_letters) is decided by the runtime's
// authorizer as the authenticated caller's, with the roles the
// Authenticator gave, and audited under the caller's name — not run as the
// trusted host.
func TestHTTPPassesTheCallersIdentityToTheRuntime(t *testing.T) {
	var mu sync.Mutex // the authorizer runs on the HTTP server's goroutines
	var asked []caxton.AuthzRequest
	authz := caxton.AuthorizerFunc(func(_ context.Context, req caxton.AuthzRequest) error {
		if req.Action != caxton.ActionReplay {
			return nil
		}
		mu.Lock()
		asked = append(asked, req)
		mu.Unlock()
		if !slices.Contains(req.Subject.Roles, "operator") {
			return errors.New("only operators replay dead letters")
		}
		return nil
	})
	rt := caxtontest.NewRuntime(t, caxton.WithAuthorizer(authz))
	rt.MustSpawn(caxton.AgentSpec{Name: "ledger", Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
		return caxton.Permanent(errors.New("database down"))
	})})
	m := acl.New(acl.Request, "ledger")
	m.Content = []byte("debit 12")
	require.NoError(t, rt.Send(caxtontest.Context(t), m))
	rt.AwaitDeadLetters(1)
	dl, err := rt.DeadLetters(caxtontest.Context(t))
	require.NoError(t, err)
	require.Len(t, dl, 1)

	tokens := map[string]mcpserver.Identity{
		"alice-token": {Subject: "alice", Roles: []string{"operator"}},
		"bob-token":   {Subject: "bob", Roles: []string{"viewer"}},
	}
	h, err := mcpserver.HTTPHandler(rt.Runtime, mcpserver.WithAuthenticator(func(r *http.Request) (mcpserver.Identity, error) {
		id, ok := tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok {
			return mcpserver.Identity{}, errors.New("unknown token")
		}
		return id, nil
	}))
	require.NoError(t, err)
	c := newRawHTTP(t, h)
	replay := func(who string) map[string]any {
		auth := []string{"Authorization", "Bearer " + who + "-token"}
		session := c.open(auth...)
		kv := append([]string{"Mcp-Session-Id", session, "Mcp-Protocol-Version", "2025-06-18"}, auth...)
		return result(t, c.call("tools/call", fmt.Sprintf(`{"name":"replay_dead_letters","arguments":{"ids":[%q]}}`, dl[0].ID), kv...))
	}

	// Bob is a viewer: refused, and the dead letter stays.
	out := replay("bob")
	assert.Equal(t, true, out["isError"], "%v", out)
	assert.Contains(t, fmt.Sprint(out), "only operators replay dead letters")
	left, err := rt.DeadLetters(caxtontest.Context(t))
	require.NoError(t, err)
	assert.Len(t, left, 1)

	// Alice is an operator: allowed.
	out = replay("alice")
	assert.NotEqual(t, true, out["isError"], "%v", out)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, asked, 2)
	assert.Equal(t, caxton.Subject{Kind: caxton.SubjectIdentity, Name: "bob", Roles: []string{"viewer"}}, asked[0].Subject)
	assert.Equal(t, caxton.Subject{Kind: caxton.SubjectIdentity, Name: "alice", Roles: []string{"operator"}}, asked[1].Subject)

	var replays []caxton.AuditRecord
	for _, r := range rt.Audit() {
		if r.Kind == caxton.AuditDeadLetters {
			replays = append(replays, r)
		}
	}
	require.Len(t, replays, 2)
	assert.Equal(t, "identity:bob", replays[0].Subject)
	assert.False(t, replays[0].Allowed)
	assert.Equal(t, "identity:alice", replays[1].Subject)
	assert.True(t, replays[1].Allowed)

	// The calls themselves are in the trail too, as the caller's, with
	// their outcome (the runtime's own records above are their effects).
	var calls []caxton.AuditRecord
	for _, r := range rt.Audit() {
		if r.Kind == caxton.AuditCall {
			calls = append(calls, r)
		}
	}
	require.Len(t, calls, 2)
	assert.Equal(t, "identity:bob", calls[0].Subject)
	assert.Equal(t, "mcp replay_dead_letters", calls[0].Action)
	assert.False(t, calls[0].Allowed)
	assert.Contains(t, calls[0].Reason, "could not be replayed")
	assert.Equal(t, "identity:alice", calls[1].Subject)
	assert.True(t, calls[1].Allowed)
	assert.Empty(t, calls[1].Reason)
	require.NoError(t, caxton.VerifyAudit(rt.Audit()))
}
