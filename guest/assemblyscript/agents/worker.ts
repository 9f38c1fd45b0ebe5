// worker: does what it is asked. A request is answered with an inform whose
// content is "done:" followed by the request's content (and logged);
// anything else with not-understood whose content is the performative's name.
import { AgentError, Context, handle, Message, Performative, performativeName } from "../assembly";
export { caxton_abi_version, caxton_alloc, caxton_handle } from "../assembly";

handle((m: Message, ctx: Context): AgentError | null => {
  if (m.performative != Performative.Request) {
    ctx.replyText(Performative.NotUnderstood, performativeName(m.performative));
    return null;
  }
  ctx.info("working on " + m.text());
  ctx.replyText(Performative.Inform, "done:" + m.text());
  return null;
});
