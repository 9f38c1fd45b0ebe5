package mcpserver

import (
	"context"
	"errors"
	"net/http"

	"github.com/caxton-go/caxton"
)

// Identity is who an Authenticator says the caller of the HTTP face is.
// It is the seam for authorization: the server face records it with every
// tool call it logs, and hands it to the tools' handling in their context
// (IdentityFrom), so that what a caller may do can be decided from who it
// is.
type Identity struct {
	// Subject names the caller: a user, a service account, the owner of an
	// API key. It must not be empty. An MCP session belongs to the subject
	// whose request opened it; another subject's requests on it are
	// refused.
	Subject string
	// Roles are the caller's roles as the runtime's authorizer knows them
	// (caxton.Identity.Roles): the face passes Subject and Roles to the
	// runtime with every call it makes for this caller, so lifecycle
	// operations (replaying dead letters) are decided and audited as the
	// caller's, not the host's.
	Roles []string
	// Attributes carries whatever else the authenticator knows (roles, a
	// tenant, when the credential expires). The server face passes it on
	// and does not read it.
	Attributes map[string]any
}

// Authenticator decides who is calling from an HTTP request: its headers
// (a bearer token, an API key), its TLS client certificate, its remote
// address. It returns the caller's Identity, or an error that refuses the
// request: one that wraps ErrForbidden is answered 403 Forbidden (the
// caller is known and may not use this server), any other 401
// Unauthorized (the caller could not be identified). The error's text is
// the response body, so it should say what is wrong without giving away
// secrets. It runs on every request, so keep it quick (cache verified
// tokens).
type Authenticator func(*http.Request) (Identity, error)

// ErrForbidden, wrapped in an Authenticator's error, makes the HTTP face
// answer 403 instead of 401.
var ErrForbidden = errors.New("mcpserver: forbidden")

type identityKey struct{}

// IdentityFrom returns the Identity the Authenticator gave the request
// that ctx belongs to. Within a tool call — the tools' handlers, an SDK
// middleware — that is the identity of the caller that opened the MCP
// session (every later request on the session is checked to come from the
// same subject). ok is false when there is none: the server runs without
// an Authenticator (WithAuthenticator), or over stdio.
func IdentityFrom(ctx context.Context) (id Identity, ok bool) {
	id, ok = ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// withIdentity returns ctx carrying id, for IdentityFrom, and the same
// caller as a caxton.Identity, so that the runtime's authorizer decides —
// and its audit trail records — what the tools do on the caller's behalf.
func withIdentity(ctx context.Context, id Identity) context.Context {
	ctx = caxton.WithIdentity(ctx, caxton.Identity{Name: id.Subject, Roles: id.Roles})
	return context.WithValue(ctx, identityKey{}, id)
}
