// counter: counts the messages it has received and answers each with an
// inform whose content is the count so far, in decimal ("1", "2", ...). The
// count lives as long as the instance (a trap replaces it, from zero).
import { AgentError, Context, handle, Message, Performative } from "../assembly";
export { caxton_abi_version, caxton_alloc, caxton_handle } from "../assembly";

let count: u64 = 0;

handle((m: Message, ctx: Context): AgentError | null => {
  count++;
  ctx.replyText(Performative.Inform, count.toString());
  return null;
});
