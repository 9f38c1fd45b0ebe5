// probe: the conformance suite's test agent (internal/conformance). It does
// what the content says and answers inform to reply-to or sender:
//
//   fail            fails, worth retrying (nothing is answered)
//   fatal           fails permanently
//   log:TEXT        logs TEXT at info level; answers "logged"
//   tool:NAME:ARGS  calls host tool NAME with the JSON ARGS; answers "STATUS:RESULT"
//   grow:N          allocates and touches N MiB, kept; answers "grew" (the
//                   runtime aborts, a trap, when memory runs out)
//   spin            loops forever (until the deadline or the fuel ends)
//   anything else   answers "ok:" and the content
import { AgentError, Context, handle, Message, Performative } from "../assembly";
export { caxton_abi_version, caxton_alloc, caxton_handle } from "../assembly";

const kept: Uint8Array[] = [];
let sink: u64 = 0;

handle((m: Message, ctx: Context): AgentError | null => {
  const text = m.text();
  const colon = text.indexOf(":");
  const cmd = colon < 0 ? text : text.substring(0, colon);
  const arg = colon < 0 ? "" : text.substring(colon + 1);
  if (cmd == "fail") return AgentError.retry("asked to fail");
  if (cmd == "fatal") return AgentError.permanent("asked to fail for good");
  if (cmd == "log") {
    ctx.info(arg);
    ctx.replyText(Performative.Inform, "logged");
    return null;
  }
  if (cmd == "tool") {
    const c = arg.indexOf(":");
    const name = c < 0 ? arg : arg.substring(0, c);
    const args = c < 0 ? "{}" : arg.substring(c + 1);
    const r = ctx.callTool(name, args);
    ctx.replyText(Performative.Inform, (<i32>r.status).toString() + ":" + r.text());
    return null;
  }
  if (cmd == "grow") {
    const mib = I32.parseInt(arg);
    for (let i = 0; i < mib; i++) {
      const b = new Uint8Array(1 << 20);
      b.fill(1);
      kept.push(b);
    }
    ctx.replyText(Performative.Inform, "grew");
    return null;
  }
  if (cmd == "spin") {
    while (true) sink = sink * 31 + 1;
  }
  ctx.replyText(Performative.Inform, "ok:" + text);
  return null;
});
