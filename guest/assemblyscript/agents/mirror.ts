// mirror: sends every message back as it came, so a host can check that
// each ACL field crosses the ABI both ways (internal/conformance). The copy
// goes to reply-to (else the sender) with every field an agent can set;
// what it cannot set travels in params: X-Sender, X-Id, X-Created-At (Unix
// nanoseconds) and X-Receivers (comma-separated).
import { AgentError, Context, handle, Message } from "../assembly";
export { caxton_abi_version, caxton_alloc, caxton_handle } from "../assembly";

handle((m: Message, ctx: Context): AgentError | null => {
  const out = m.clone();
  out.receivers = [m.replyTo.length > 0 ? m.replyTo : m.sender];
  out.sender = "";
  out.id = new Uint8Array(16);
  out.createdAt = 0;
  out.params.set("X-Sender", m.sender);
  out.params.set("X-Id", m.idString());
  out.params.set("X-Created-At", m.createdAt.toString());
  out.params.set("X-Receivers", m.receivers.join(","));
  ctx.send(out);
  return null;
});
