// Package mcp gives Caxton agents tools.
//
// The tool side is the Registry, the runtime's tool.Toolbox. It holds two
// kinds of tools: Go functions the host adds (Registry.Add; NewTool makes
// one from a typed function, its schema derived from the argument type),
// and the tools
// of external MCP servers it imports through the official go-sdk
// (Registry.Connect, over a subprocess's stdio, streamable HTTP or any
// go-sdk transport). Agents — native handlers through
// MessageContext.CallTool, wasm guests through the caxton host import —
// call both the same way, and always through the registry, so one place
// enforces what they may do:
//
//	reg := mcp.NewRegistry(mcp.WithLogger(logger))
//	defer reg.Close()
//	_ = reg.Add(mcp.Tool{Name: "lookup", Handler: lookup})
//	_ = reg.Connect(ctx, "files", mcp.Command("mcp-files", "--root", dir))
//	rt, _ := caxton.New(caxton.WithToolbox(reg))
//	_ = rt.Spawn(ctx, caxton.AgentSpec{Name: "clerk", Handler: h,
//		Tools: tool.Grant{Allow: []string{"lookup", "files/*"}, Rate: 5}})
//
// # Deny by default
//
// An agent may call only what its AgentSpec.Tools grant allows: a tool by
// name ("lookup"), every tool of one server ("files/*") or everything
// ("*"). The zero grant allows nothing. A call outside the grant is
// tool.StatusDenied, and the reason says which entry would allow it; the
// denial is decided before the registry looks the tool up, so an agent
// cannot probe for tools it may not use. Within the grant, each agent has
// its own rate (a token bucket: Rate per second, Burst at once, measured
// on the registry's clock), each call a timeout and each result a size
// limit.
//
// # Namespaces
//
// Host tools have plain names ([A-Za-z0-9_.-]+). Tools imported from the
// server connected as "files" are named "files/<its name>", so two servers
// can both have a "search" and a grant can name a whole server. A tool
// whose own name contains whitespace or '*' cannot be granted by name and
// is not imported.
//
// # Results and statuses
//
// A call's outcome is a tool.Result, never an error or a panic: the agent
// decides what to do with tool.StatusDenied, tool.StatusRateLimited,
// tool.StatusTimeout, tool.StatusUnavailable (no such tool, the server is
// down, the caller gave up, the registry closed), tool.StatusBadArguments
// (not a JSON object, or against the tool's input schema — checked here
// for every tool, so a host handler sees only arguments that match),
// tool.StatusError (the tool's own failure: a handler's error or panic, an
// MCP result marked isError, a JSON-RPC error from the server) and
// tool.StatusTooLarge. An MCP result becomes its structured content as
// JSON when it has some, otherwise its text contents joined by newlines
// (other contents — images, resources — as their JSON).
//
// # Audit and telemetry
//
// Every call, refused or not, yields one AuditRecord: who called what,
// when, for how long, with what outcome and how many bytes went each way.
// The registry keeps the most recent ones (Registry.Audit) and hands each
// to a hook (WithAuditHook) for a durable log. With WithTracerProvider,
// each call is a span "tools/call <name>" under the caller's span — for an
// agent, the span of the message it is handling — with the attributes of
// the MCP semantic conventions (KeyMethodName, KeyOperation, KeyTool). A
// call to an MCP server carries that span's W3C trace context and the
// caller's baggage in params._meta, as the conventions specify, so a
// server that reads them (mcp/mcpserver does) continues the trace.
//
// # Sessions and re-initialisation
//
// A server's session can be lost: a subprocess exits, an HTTP server
// restarts and forgets its sessions. The registry notices — when a call
// fails, or when the session ends on its own — and the next call
// re-initialises the session on a fresh transport (a new subprocess) and
// lists the server's tools again. A call whose request never reached the
// server (the session was unknown to it, or already closed) is retried
// once on the new session; a call in flight when the connection broke is
// tool.StatusUnavailable at once and not repeated, since it may have had
// effects. Over HTTP, "unknown session" is a 404 as the spec says or the
// 400 many servers send instead, and a broken response stream is not
// resumed (the go-sdk would retry for about 20 s): see HTTPTransport.
// Registry.Close ends every session, stops and reaps subprocesses (stdin
// closed, then SIGTERM, then SIGKILL, CommandTransport.TerminateDuration
// apart; only a server that had to be killed or failed is an error), and
// answers calls still in flight with tool.StatusUnavailable.
//
// # Limits
//
// The grant's MaxResult (default 1 MiB) is checked on every result. The
// transport itself does not cap message sizes unless asked
// (CommandTransport.MaxMessageBytes, HTTPTransport.MaxMessageBytes): the
// go-sdk's default 16 MiB cap would break a whole session — every agent's
// calls on it — over one oversized result, where the grant refuses just
// that call. Call timeouts run on real time, not the registry's clock: they
// bound how long an agent waits. A host handler that ignores its context's
// end keeps running, but the agent has its answer on time.
//
// # Serving the runtime
//
// The other direction — an MCP server through which an LLM client sees the
// agents and talks to them — is package mcp/mcpserver. It is apart so that
// this package, the toolbox, does not import the runtime.
//
// # One package named mcp per file
//
// The official go-sdk's package is also named mcp. A host that uses tools
// needs only this one: Command (stdio subprocess), HTTP (streamable HTTP),
// NewTool and Tool (host tools) and the Registry cover it, and none of them
// asks for a go-sdk type. Only SDK, for a transport of the go-sdk's own
// (say, in-memory, in a test), takes one. A program that also writes an MCP
// server with the go-sdk keeps that server in a file of its own: imports are
// per file, so each file imports the package it uses under its own name and
// neither needs an alias (examples/mcp-tools does this). This package's own
// source imports the go-sdk as sdk.
package mcp
