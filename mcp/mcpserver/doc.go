// Package mcpserver is the MCP server face of a Caxton runtime: it turns a
// *caxton.Runtime into an MCP server, so an LLM client (Claude Desktop, an
// IDE, an agent framework) can look at the agents and talk to them. It is
// the other direction from package mcp, which gives agents tools; the two
// are separate packages so that a toolbox does not import the runtime, and
// this is the only one that needs it.
//
// The server has seven tools: list_agents, send_message,
// receive_messages, request, contract_net, dead_letters and
// replay_dead_letters (the Tool* constants; WithTools picks a subset, for
// example a read-only face). New returns the server for any go-sdk
// transport; ServeStdio serves one client over stdin/stdout (what a
// desktop assistant or an IDE starts: a message over WithMaxMessageBytes,
// 16 MiB by default, is refused with a JSON-RPC error and the session goes
// on); HTTPHandler serves any number over MCP's streamable HTTP transport:
//
//	rt, _ := caxton.New()
//	defer rt.Close(context.Background())
//	// ... spawn agents ...
//	h, _ := mcpserver.HTTPHandler(rt, mcpserver.WithName("billing-agents"),
//		mcpserver.WithAuthenticator(checkAPIKey)) // needed beyond localhost
//	mux.Handle("/mcp", h)
//
// The tools are typed, with JSON schemas and descriptions written for the
// model; a list argument is a plain JSON array (an optional one defaults
// to []), never "null or array", which some clients cannot fill in. Every
// tool checks its arguments and answers a bad one with a tool error that
// names the argument and says what it should be ("invalid argument "max":
// expected an integer (a whole number such as 5000), got null"), so the
// model can correct itself; runtime failures (an unknown agent, no reply
// in time) are tool errors with the reason, never protocol errors or
// panics.
//
// # Inboxes
//
// The server takes part in the bus as host inboxes: it sends from one
// (named "mcp" by default, see WithInbox), where replies to its messages
// wait for receive_messages, and runs Contract Net rounds from a second
// one (the inbox's name + "/contract-net") read by a protocol.Client. Both
// live until the runtime closes or the context given to WithContext ends;
// ServeStdio releases them when it returns.
//
// # HTTP
//
// HTTPHandler checks each request before the SDK serves it. A browser
// request whose Origin is not allowed (WithAllowedOrigins; none by
// default) is refused, which stops DNS rebinding; requests without an
// Origin, from clients that are not browsers, pass. WithAuthenticator
// identifies the caller of every request (401 or 403 if it cannot): a
// session belongs to the subject that opened it, each tool call is logged
// with it on the runtime's logger, and the tools' handling reads it with
// IdentityFrom. The face also passes the caller to the runtime
// (caxton.WithIdentity, with Identity.Roles), so the runtime's authorizer
// (caxton.WithAuthorizer) decides the lifecycle operations a tool performs
// — replay_dead_letters — and the audit trail records them as the
// caller's. Sessions idle
// for WithSessionTimeout (30 minutes) are closed, and a new session beyond
// WithMaxSessions (1000) is refused with 503, so clients that vanish
// without ending their session cannot exhaust the server. A client that
// proposes a newer protocol version than the server's gets the newest the
// server supports, and its later requests are served whether they carry
// that version in MCP-Protocol-Version, as the spec says, or the one it
// proposed, as some clients do.
//
// # Time
//
// Waiting — request timeouts, proposal deadlines, result timeouts,
// receive_messages' wait — is measured on the runtime's clock, so a fake
// clock drives it in tests, and bounded by WithTimeouts.
//
// # Tracing
//
// A tools/call request whose params._meta carries W3C trace context
// ("traceparent", "tracestate") and baggage, as the MCP semantic
// conventions specify and package mcp sends, is served in that context:
// the messages the tool sends continue the client's trace (with a runtime
// given a tracer provider or propagator) and carry its baggage.
package mcpserver
