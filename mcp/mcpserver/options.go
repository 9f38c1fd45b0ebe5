package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/caxton-go/caxton/acl"
)

// ErrInvalidOption is wrapped by the error New, ServeStdio and HTTPHandler
// return for a bad option; the message names the option (WithInbox,
// WithTimeouts, ...) and what is wrong with it.
var ErrInvalidOption = errors.New("mcpserver: invalid option")

// Option configures New, ServeStdio and HTTPHandler.
type Option func(*faceConfig)

type faceConfig struct {
	impl         sdk.Implementation
	inbox        acl.AgentID
	timeout      time.Duration
	maxTimeout   time.Duration
	ctx          context.Context
	sdkOpts      *sdk.ServerOptions
	httpOpts     *sdk.StreamableHTTPOptions
	tools        []string
	toolsLimited bool
	maxMessage   int

	sessionTimeout    time.Duration // < 0: never
	sessionTimeoutSet bool
	maxSessions       int // < 0: no cap
	origins           []string
	anyOrigin         bool
	authenticate      Authenticator
	challenge         string // WWW-Authenticate on a 401 ("": the default)
}

// WithName sets the implementation name the server reports to clients
// (default "caxton").
func WithName(name string) Option {
	return func(c *faceConfig) { c.impl.Name = name }
}

// WithVersion sets the implementation version the server reports
// (default: the caxton module's version from the build info, or "devel").
func WithVersion(version string) Option {
	return func(c *faceConfig) { c.impl.Version = version }
}

// WithInbox names the host inbox the server sends from and where replies
// to send_message wait for receive_messages (default "mcp"). The Contract
// Net initiator uses a second inbox, this name + "/contract-net". Pass
// rt.Inbox().Name() to share the runtime's default inbox; the server then
// reads (and consumes) the host's messages too. Two servers on one runtime
// need different names.
func WithInbox(name acl.AgentID) Option {
	return func(c *faceConfig) { c.inbox = name }
}

// WithTimeouts sets how long request and contract_net wait when the
// caller gives no timeout (default 10s), and the longest wait a caller may
// ask for (default one minute); longer requests are refused, naming the
// field. Both are measured on the runtime's clock.
func WithTimeouts(def, maxWait time.Duration) Option {
	return func(c *faceConfig) { c.timeout, c.maxTimeout = def, maxWait }
}

// WithContext ties the server's resources to ctx: when ctx ends, the
// server closes its inboxes and its Contract Net client, and its tools
// fail from then on. Without it they live as long as the runtime.
func WithContext(ctx context.Context) Option {
	return func(c *faceConfig) { c.ctx = ctx }
}

// WithSDKOptions passes options to the SDK server (logger, keep-alive,
// page size, ...). Empty Instructions get the server face's own, which
// explain the tools to the model.
func WithSDKOptions(o *sdk.ServerOptions) Option {
	return func(c *faceConfig) { c.sdkOpts = o }
}

// WithHTTPOptions passes options to the streamable HTTP handler that
// HTTPHandler makes (stateless mode, JSON responses, event store, request
// body limit, ...). Its SessionTimeout is used when WithSessionTimeout is
// not given.
func WithHTTPOptions(o *sdk.StreamableHTTPOptions) Option {
	return func(c *faceConfig) { c.httpOpts = o }
}

// WithSessionTimeout makes HTTPHandler close a session that has had no
// request for d (default DefaultSessionTimeout; a negative d keeps idle
// sessions for as long as the handler lives). Clients that went away
// without ending their session (an HTTP DELETE) would otherwise hold its
// memory for good. A client that comes back to a closed session gets 404
// and, as the MCP spec asks of it, initialises a new one. The timer is
// paused while a request of the session is being answered; an open
// server-to-client event stream does not count as activity.
func WithSessionTimeout(d time.Duration) Option {
	return func(c *faceConfig) { c.sessionTimeout, c.sessionTimeoutSet = d, true }
}

// WithMaxSessions caps the sessions HTTPHandler holds at once (default
// DefaultMaxSessions; a negative n lifts the cap). A request that would
// open one more is answered 503 Service Unavailable, saying so; the
// client can end an unused session or retry once idle ones time out (see
// WithSessionTimeout). With StreamableHTTPOptions.Stateless, every request
// is a session of its own and the cap bounds requests in progress.
func WithMaxSessions(n int) Option {
	return func(c *faceConfig) { c.maxSessions = n }
}

// WithAllowedOrigins names the web origins ("https://app.example.com",
// "http://localhost:6274": scheme, host and port, no path) whose pages may
// call HTTPHandler from a browser; "*" allows any. A request whose Origin
// header names another origin is refused with 403: this is what stops DNS
// rebinding, where a page of any site reaches a server on the visitor's
// machine or network under a name of the attacker's (so the Host check
// alone does not catch it, and "same origin" proves nothing). Requests
// without an Origin header — MCP clients that are not browsers — are
// unaffected. By default no browser origin is allowed. Browsers also need
// CORS headers on the responses to read them from another origin; add
// those with the middleware of your choice in front of the handler.
func WithAllowedOrigins(origins ...string) Option {
	return func(c *faceConfig) { c.origins = append(c.origins, origins...) }
}

// WithAuthenticator makes HTTPHandler call a on every request before
// serving it, refusing those a rejects (401, or 403 for ErrForbidden) and
// passing the Identity it returns on: a session belongs to the subject
// that opened it, each tool call is logged with it, and IdentityFrom reads
// it in the tools' handling. Without it the HTTP face serves anyone who
// can reach it, as the caller of its tools.
func WithAuthenticator(a Authenticator) Option {
	return func(c *faceConfig) { c.authenticate = a }
}

// WithAuthChallenge sets the WWW-Authenticate challenge HTTPHandler sends
// with a 401 (RFC 9110 requires one; clients read from it how to
// authenticate). The default, `Bearer realm="caxton"`, suits bearer
// tokens; a server using MCP's OAuth flow points clients at its protected
// resource metadata instead, for example
// `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"`.
func WithAuthChallenge(challenge string) Option {
	return func(c *faceConfig) { c.challenge = challenge }
}

// WithTools registers only the named tools (the Tool* constants): for
// example ToolListAgents and ToolDeadLetters alone make a read-only face.
// An unknown name makes New fail. Without this option every tool is
// registered; without contract_net the server needs no Contract Net inbox.
func WithTools(names ...string) Option {
	return func(c *faceConfig) { c.tools, c.toolsLimited = slices.Clone(names), true }
}

// WithMaxMessageBytes sets the largest message ServeStdio reads from its
// client (default DefaultMaxMessageBytes, 16 MiB). A bigger one is answered
// with a JSON-RPC error and skipped, and the session goes on. HTTP request
// bodies have their own limit (StreamableHTTPOptions.MaxRequestBodyBytes,
// see WithHTTPOptions).
func WithMaxMessageBytes(n int) Option {
	return func(c *faceConfig) { c.maxMessage = n }
}

func newFaceConfig(opts []Option) (*faceConfig, error) {
	c := &faceConfig{
		impl:       sdk.Implementation{Name: "caxton", Version: faceModuleVersion()},
		inbox:      DefaultInbox,
		timeout:    DefaultTimeout,
		maxTimeout: DefaultMaxTimeout,
		maxMessage: DefaultMaxMessageBytes,

		sessionTimeout: DefaultSessionTimeout,
		maxSessions:    DefaultMaxSessions,
	}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil Option", ErrInvalidOption)
		}
		o(c)
	}
	switch {
	case c.impl.Name == "":
		return nil, fmt.Errorf("%w: WithName: empty name", ErrInvalidOption)
	case c.impl.Version == "":
		return nil, fmt.Errorf("%w: WithVersion: empty version", ErrInvalidOption)
	case c.timeout <= 0:
		return nil, fmt.Errorf("%w: WithTimeouts: default %v is not positive", ErrInvalidOption, c.timeout)
	case c.maxTimeout < c.timeout:
		return nil, fmt.Errorf("%w: WithTimeouts: maximum %v is below the default %v", ErrInvalidOption, c.maxTimeout, c.timeout)
	case c.maxMessage <= 0:
		return nil, fmt.Errorf("%w: WithMaxMessageBytes: %d is not positive", ErrInvalidOption, c.maxMessage)
	case c.sessionTimeoutSet && c.sessionTimeout == 0:
		return nil, fmt.Errorf("%w: WithSessionTimeout: 0 (pass a negative duration to keep idle sessions)", ErrInvalidOption)
	case c.maxSessions == 0:
		return nil, fmt.Errorf("%w: WithMaxSessions: 0 (pass a negative number for no cap)", ErrInvalidOption)
	}
	if !c.sessionTimeoutSet && c.httpOpts != nil && c.httpOpts.SessionTimeout != 0 {
		c.sessionTimeout = c.httpOpts.SessionTimeout
	}
	for _, o := range c.origins {
		if o == "*" {
			c.anyOrigin = true
			continue
		}
		if _, err := faceOrigin(o); err != nil {
			return nil, fmt.Errorf("%w: WithAllowedOrigins: %w", ErrInvalidOption, err)
		}
	}
	if err := c.inbox.Validate(); err != nil {
		return nil, fmt.Errorf("%w: WithInbox: %w", ErrInvalidOption, err)
	}
	if c.inbox.IsTopic() {
		return nil, fmt.Errorf("%w: WithInbox: %q is a topic address", ErrInvalidOption, c.inbox)
	}
	if err := faceNegotiatorName(c.inbox).Validate(); err != nil {
		return nil, fmt.Errorf("%w: WithInbox: the Contract Net inbox name: %w", ErrInvalidOption, err)
	}
	if !c.toolsLimited {
		c.tools = faceToolNames
	}
	for _, n := range c.tools {
		if !slices.Contains(faceToolNames, n) {
			return nil, fmt.Errorf("%w: WithTools: unknown tool %q (known: %v)", ErrInvalidOption, n, faceToolNames)
		}
	}
	return c, nil
}

// faceModuleVersion is the caxton module's version as built into the
// binary, or "devel".
func faceModuleVersion() string {
	const path = "github.com/caxton-go/caxton"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == path && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == path && d.Version != "" {
				return d.Version
			}
		}
	}
	return "devel"
}

func faceNegotiatorName(inbox acl.AgentID) acl.AgentID { return inbox + "/contract-net" }
