// echo: answers every message with an inform carrying the same content.
import { AgentError, Context, handle, Message, Performative } from "../assembly";
export { caxton_abi_version, caxton_alloc, caxton_handle } from "../assembly";

handle((m: Message, ctx: Context): AgentError | null => {
  ctx.reply(Performative.Inform, m.content);
  return null;
});
