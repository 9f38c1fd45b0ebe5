// The Caxton guest SDK for AssemblyScript: Guest ABI v1 (sandbox/ABI.md).
// See ../README.md.
export { Performative, Priority, performativeName } from "./performative";
export { Message } from "./message";
export { AgentError, Context, Level, ToolResult, ToolStatus, TOOL_BUFFER, getenv, log } from "./context";
export { handle, Handler, caxton_abi_version, caxton_alloc, caxton_handle, caxtonAbort } from "./agent";
export { ABI_VERSION } from "./abi";
export { Bid, Bidder, Offer, Participant, PROTOCOL } from "./contractnet";
export { quote as jsonQuote, getString as jsonString, getNumber as jsonNumber } from "./json";
