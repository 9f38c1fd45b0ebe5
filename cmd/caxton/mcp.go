package main

import (
	"fmt"
	"net/http"

	"github.com/caxton-go/caxton/mcp/mcpserver"
	"github.com/caxton-go/caxton/server"
)

// mcpAuthenticator lets the MCP face (mounted at /mcp with `mcp: true`)
// use the API's identities: the same tokens, the subject passed on. Its
// tools send messages, request and replay dead letters, and cannot be
// limited to some agents, so it takes an operator or admin whose token is
// not scoped; others are refused (403).
func mcpAuthenticator(auth server.Authenticator) mcpserver.Authenticator {
	return func(r *http.Request) (mcpserver.Identity, error) {
		id, err := auth(r)
		if err != nil {
			return mcpserver.Identity{}, err
		}
		switch {
		case id.Role < server.RoleOperator:
			return mcpserver.Identity{}, fmt.Errorf("%w: the MCP face needs the operator role; %q is %s", mcpserver.ErrForbidden, id.Subject, id.Role)
		case id.Scoped():
			return mcpserver.Identity{}, fmt.Errorf("%w: the MCP face cannot be limited to some agents; %q's token is scoped", mcpserver.ErrForbidden, id.Subject)
		}
		return mcpserver.Identity{Subject: id.Subject, Attributes: map[string]any{"role": id.Role.String()}}, nil
	}
}
