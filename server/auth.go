package server

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/caxton-go/caxton/acl"
)

// Role is what an identity may do. Roles are ordered: each may do
// everything the one below it may.
type Role uint8

const (
	// RoleNone may do nothing; it is the zero value, so an Identity
	// without a role is refused everything (deny by default).
	RoleNone Role = iota
	// RoleViewer reads: agents, logs, events, dead letters, metrics.
	RoleViewer
	// RoleOperator also operates agents: send and request, stop, start,
	// restart, scale, upgrade, roll back, replay dead letters.
	RoleOperator
	// RoleAdmin also deploys and removes agents, purges dead letters and
	// reads the audit log.
	RoleAdmin
)

var roleNames = [...]string{RoleNone: "none", RoleViewer: "viewer", RoleOperator: "operator", RoleAdmin: "admin"}

// String returns the role's name: "viewer", "operator" or "admin".
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// ParseRole parses a role's name ("viewer", "operator", "admin").
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames {
		if r != int(RoleNone) && strings.EqualFold(s, n) {
			return Role(r), nil
		}
	}
	return RoleNone, fmt.Errorf("%w: unknown role %q (want viewer, operator or admin)", ErrBadRequest, s)
}

// MarshalText implements encoding.TextMarshaler.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Identity is who an Authenticator says the caller is, and what it may do:
// its role and, optionally, the agents it may touch. It is the same kind
// of value as mcpserver.Identity (a subject), with the role and scope the
// management API decides on.
type Identity struct {
	// Subject names the caller (a user, a service account); it appears in
	// every audit record.
	Subject string
	// Role is what the caller may do (RoleNone: nothing).
	Role Role
	// Agents, when not empty, scopes the caller to these agents: it sees
	// and touches only them (their messages, logs, events, dead letters).
	Agents []acl.AgentID
}

// Scoped reports whether the identity is limited to some agents.
func (id Identity) Scoped() bool { return len(id.Agents) > 0 }

// MayAccess reports whether the identity may see or touch agent.
func (id Identity) MayAccess(agent acl.AgentID) bool {
	return !id.Scoped() || slices.Contains(id.Agents, agent)
}

// Authenticator decides who is calling from an HTTP request (its bearer
// token, its TLS client certificate). It returns an error wrapping
// ErrUnauthorized when the caller cannot be identified; the error's text
// goes to the client, so it must not give secrets away. It runs on every
// request: keep it quick.
type Authenticator func(*http.Request) (Identity, error)

// Token is one static bearer token: for development and small
// deployments, where a JWT issuer is more than needed.
type Token struct {
	// Token is the secret the client sends as "Authorization: Bearer
	// <token>" (at least 16 characters).
	Token string `yaml:"token" json:"token"`
	// Subject names the holder in audit records.
	Subject string `yaml:"subject" json:"subject"`
	// Role is what the holder may do.
	Role Role `yaml:"role" json:"role"`
	// Agents, if set, scopes the token to these agents.
	Agents []acl.AgentID `yaml:"agents" json:"agents,omitempty"`
}

// MinTokenLen is the shortest static token StaticTokens accepts.
const MinTokenLen = 16

// StaticTokens returns an Authenticator that accepts the given bearer
// tokens. Tokens are compared by their SHA-256 digests, so the time a
// lookup takes says nothing about how close a guess was. A token that is
// short, duplicated, without a subject or without a role is refused with
// a *FieldError naming it by index ("tokens[2].role").
func StaticTokens(tokens ...Token) (Authenticator, error) {
	byHash := make(map[[32]byte]Identity, len(tokens))
	for i, t := range tokens {
		field := fmt.Sprintf("tokens[%d]", i)
		switch {
		case len(t.Token) < MinTokenLen:
			return nil, fieldErr(field+".token", "must be at least %d characters", MinTokenLen)
		case strings.TrimSpace(t.Subject) == "":
			return nil, fieldErr(field+".subject", "must not be empty")
		case t.Role == RoleNone || t.Role > RoleAdmin:
			return nil, fieldErr(field+".role", "must be viewer, operator or admin")
		}
		h := sha256.Sum256([]byte(t.Token))
		if _, dup := byHash[h]; dup {
			return nil, fieldErr(field+".token", "is the same as an earlier token")
		}
		byHash[h] = Identity{Subject: t.Subject, Role: t.Role, Agents: slices.Clone(t.Agents)}
	}
	return func(r *http.Request) (Identity, error) {
		tok, ok := BearerToken(r)
		if !ok {
			return Identity{}, fmt.Errorf("%w: no bearer token (send Authorization: Bearer <token>)", ErrUnauthorized)
		}
		id, ok := byHash[sha256.Sum256([]byte(tok))]
		if !ok {
			return Identity{}, fmt.Errorf("%w: unknown token", ErrUnauthorized)
		}
		return id, nil
	}, nil
}

// BearerToken returns the token of the request's "Authorization: Bearer"
// header.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
