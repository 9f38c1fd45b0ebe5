// The codec against Go's (internal/abi/testdata, see golden_test.go
// there): golden.mjs hands this agent batch.bin; it checks each message
// against the same messages spelt here, and answers the first with the
// golden outbox, whose bytes golden.mjs compares with outbox.bin. A
// mismatch is a permanent failure naming the field.
import { AgentError, Context, handle, Message, Performative, Priority } from "../assembly";
export { caxton_abi_version, caxton_alloc, caxton_handle } from "../assembly";

let seen = 0;
let problem = "";

function check(what: string, got: string, want: string): void {
  if (problem.length == 0 && got != want) problem = what + ": got \"" + got + "\", want \"" + want + "\"";
}

function bytes(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (i > 0 ? "," : "") + b[i].toString();
  return s;
}

function params(m: Map<string, string>): string {
  const keys = m.keys();
  keys.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
  let s = "";
  for (let i = 0; i < keys.length; i++) s += keys[i] + "=" + m.get(keys[i]) + ";";
  return s;
}

handle((m: Message, ctx: Context): AgentError | null => {
  seen++;
  const n = seen.toString() + " ";
  if (seen == 1) {
    check(n + "id", m.idString(), "01934bcd-ef01-7abc-8def-0123456789ab");
    check(n + "performative", (<i32>m.performative).toString(), (<i32>Performative.Propose).toString());
    check(n + "priority", (<i32>m.priority).toString(), (<i32>Priority.Low).toString());
    check(n + "sender", m.sender, "a");
    check(n + "receivers", m.receivers.join(","), "b,topic:c");
    check(n + "reply-to", m.replyTo, "d");
    check(n + "content", bytes(m.content), "0,1,2,255");
    check(n + "language", m.language, "json");
    check(n + "encoding", m.encoding, "utf-8");
    check(n + "ontology", m.ontology, "o");
    check(n + "protocol", m.protocol, "fipa-contract-net");
    check(n + "conversation", m.conversationId, "c-1");
    check(n + "reply-with", m.replyWith, "r-1");
    check(n + "in-reply-to", m.inReplyTo, "r-0");
    check(n + "reply-by", m.replyBy.toString(), "1795341600000000123");
    check(n + "created-at", m.createdAt.toString(), "1795338000000000456");
    check(n + "trace", params(m.traceContext), "traceparent=00-x;tracestate=k=v;");
    check(n + "params", params(m.params), "X-A=1;X-B=;");
    ctx.send(new Message(Performative.Request).withPriority(Priority.High).to("worker").to("topic:jobs")
      .withReplyTo("desk").withLanguage("text/plain").withConversationId("order-7").withReplyWith("q-1")
      .withReplyBy(1795341600000000123).withParam("X-Z", "last").withParam("X-A", "first").withText("done:ticket 7"));
    ctx.send(new Message(Performative.Inform).to("a"));
  } else if (seen == 2) {
    check(n + "performative", (<i32>m.performative).toString(), (<i32>Performative.Inform).toString());
    check(n + "id", m.idString(), "00000000-0000-0000-0000-000000000000");
    check(n + "empty", m.sender + m.receivers.join(",") + params(m.params) + bytes(m.content), "");
  } else {
    check(n + "performative", (<i32>m.performative).toString(), (<i32>Performative.Cancel).toString());
    check(n + "receivers", m.receivers.join(","), "x,y,z");
    check(n + "priority", (<i32>m.priority).toString(), (<i32>Priority.High).toString());
    check(n + "ontology", m.ontology, "ünï");
    check(n + "content", m.text(), "héllo ✓");
  }
  return problem.length > 0 ? AgentError.permanent(problem) : null;
});
