// Package server is the management API of a Caxton runtime: an
// http.Handler that deploys, inspects and operates agents and talks to
// them, for a service to mount in its own mux or for cmd/caxton to serve.
//
//	rt, _ := caxton.New(caxton.WithStore(st))
//	auth, _ := server.StaticTokens(server.Token{Token: secret, Subject: "ops", Role: server.RoleOperator})
//	srv, _ := server.New(rt, server.WithAuthenticator(auth), server.WithStateDir(dir))
//	_ = srv.Restore(ctx) // the deployments of the last run
//	mux.Handle("/", srv)
//
// # Routes
//
// The OpenAPI 3.1 document (openapi.json, served at /openapi.json) is the
// reference; a test keeps it and the handlers in step. In short: agents
// (/v1/agents: deploy, list; /v1/agents/{name}: get, remove, and stop,
// start, restart, scale, upgrade, rollback, logs), messages (/v1/messages
// send, /v1/requests request with a deadline), dead letters
// (/v1/deadletters: list, replay, purge), lifecycle events as Server-Sent
// Events (/v1/events), the audit log (/v1/audit), /metrics (through the
// OpenTelemetry Prometheus exporter: NewPrometheus), and the public probes
// /healthz and /readyz. Handlers are thin: each is one call of the
// runtime's live-operations API.
//
// # Security
//
// Deny by default: every route but the probes and the document needs an
// Identity from the Authenticator (WithAuthenticator; StaticTokens for
// bearer tokens). Roles are ordered — viewer reads, operator also
// operates and talks to agents, admin also deploys, removes, purges and
// reads the audit log — and an identity may be scoped to some agents: it
// then sees only them (lists are filtered) and is refused the others.
// Every management action and every refused call becomes an AuditRecord
// (who, what, when, outcome), kept for GET /v1/audit and handed to
// WithAuditHook. Callers can be rate-limited (WithRateLimit). Bodies are
// bounded (WithMaxBodyBytes, WithMaxModuleBytes), unknown JSON fields are
// refused, and every error is an RFC 9457 problem (Problem) naming the
// field or the agent; a module that is not wasm, or does not compile or
// start, is refused with 400 or 422 and the server goes on serving.
//
// Messages from the API come from the runtime's host inbox, or from the
// caller itself when the message names its subject as sender: a client
// never speaks as an agent or another client (such a message is refused).
// Message bodies may be the acl package's strict JSON, the architecture
// documents' shapes as written (object-valued content; the simplified
// {"type", "from", "to", ...} form), or the FIPA ACL string
// representation (Content-Type: text/fipa-acl, FIPAContentType); a
// request's reply comes in the FIPA form when the client accepts it.
//
// # WebSocket gateway
//
// GET /v1/agents/{name}/join upgrades to a WebSocket on which an outside
// client is the agent {name} (operators, within their scope): it receives
// the agent's messages and acknowledges each, and sends with {name} as
// sender, stamped by the server (it cannot send as anyone else). The
// agent is a native agent the server spawns, so its mailbox, retries and
// dead letters are the runtime's: what the client has not acknowledged
// stays queued while it is away (durably, with a durable store), a full
// mailbox refuses senders, and a nack or a missed ack is retried, then
// dead-lettered. Frames are JSON (WSFrame); see join.go for the protocol.
//
// # State
//
// With WithStateDir the server remembers its deployments — spec, module
// (stored by content), version and the one before, replicas, stopped —
// writing them atomically before it answers, and Restore deploys them
// again after a restart. With a durable message store (store/durable) in
// the runtime, queued messages and dead letters survive too.
package server
