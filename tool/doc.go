// Package tool is the vocabulary of agent tool calls, shared by everything
// on either side of a call: the runtime that hands calls out
// (caxton.WithToolbox, MessageContext.CallTool), the sandbox that carries
// them across the guest ABI, the guest SDK that makes them from inside
// WebAssembly, and the toolboxes that run them (mcp.Registry).
//
// It is a leaf on purpose. It imports only the standard library and acl,
// so the guest SDK can compile it to wasip1 and a toolbox can implement
// Toolbox without importing the runtime. Keeping the words in one place
// also keeps one numbering: a Status crosses the guest ABI as a number
// (sandbox/ABI.md, "tool_call"; CAXTON_TOOL_* in guest/c/caxton.h), so the
// host and every guest must agree on it, and they agree because they share
// this package rather than copies of it.
//
// The words:
//
//   - Grant is what one agent may call and how often, how long and how
//     large (AgentSpec.Tools). The zero Grant allows nothing.
//   - Call is one call by one agent, with its grant, as a Toolbox sees it.
//   - Toolbox runs calls: it enforces the grant, runs the tool and audits.
//   - Result is how a call ended, as the agent sees it: a Status and the
//     content (the result, or the reason it failed). Every outcome is a
//     value; Result.Err turns a failure into a *CallError for code that
//     prefers errors.
package tool
