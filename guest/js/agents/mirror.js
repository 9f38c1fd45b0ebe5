// mirror: sends every message back as it came, so a host can check that
// each ACL field crosses the ABI both ways. The copy goes to the message's
// replyTo (else its sender) with the same performative, priority,
// reply-by, reply-to, language, encoding, ontology, protocol, conversation
// id, reply-with, in-reply-to, params, trace context and content; what an
// agent cannot send itself travels in params: X-Sender, X-Id, X-Created-At
// (Unix nanoseconds) and X-Receivers (comma-separated).
function handle(msg, ctx) {
  const params = Object.assign({}, msg.params, {
    'X-Sender': msg.sender,
    'X-Id': msg.id,
    'X-Created-At': String(msg.createdAtNanos),
    'X-Receivers': msg.receivers.join(','),
  });
  ctx.send({
    performative: msg.performative,
    receivers: [msg.replyTo || msg.sender],
    replyTo: msg.replyTo,
    language: msg.language,
    encoding: msg.encoding,
    ontology: msg.ontology,
    protocol: msg.protocol,
    conversationId: msg.conversationId,
    replyWith: msg.replyWith,
    inReplyTo: msg.inReplyTo,
    replyByNanos: msg.replyByNanos,
    priority: msg.priority,
    params,
    trace: msg.trace,
    content: msg.bytes || msg.text,
  });
}
