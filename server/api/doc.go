// Package api holds the wire types of the Caxton management API — the JSON
// bodies of its requests and answers, its RFC 9457 problem details and
// their sentinel errors, and the WebSocket gateway's frames — for the
// server (package server, which re-exports them) and its clients (package
// client). It imports only the standard library, so that a client does
// not compile the runtime (wasmtime, cgo) to talk to a server.
package api
