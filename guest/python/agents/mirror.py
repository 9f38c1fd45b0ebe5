# mirror: sends every message back as it came, so a host can check that
# each ACL field crosses the ABI both ways. The copy goes to the message's
# reply_to (else its sender) with the same performative, priority,
# reply-by, reply-to, language, encoding, ontology, protocol, conversation
# id, reply-with, in-reply-to, params, trace context and content; what an
# agent cannot send itself travels in params: X-Sender, X-Id, X-Created-At
# (Unix nanoseconds) and X-Receivers (comma-separated).
def handle(msg, ctx):
    params = {}
    for k, v in msg.params.items():
        params[k] = v
    params["X-Sender"] = msg.sender
    params["X-Id"] = msg.id
    params["X-Created-At"] = str(msg.created_at_nanos)
    receivers = ""
    for r in msg.receivers:
        if receivers != "":
            receivers = receivers + ","
        receivers = receivers + r
    params["X-Receivers"] = receivers
    to = msg.reply_to
    if not to:
        to = msg.sender
    content = msg.text
    if msg.bytes is not None:
        content = msg.bytes
    ctx.send(performative=msg.performative, receivers=[to], reply_to=msg.reply_to,
             language=msg.language, encoding=msg.encoding, ontology=msg.ontology,
             protocol=msg.protocol, conversation_id=msg.conversation_id,
             reply_with=msg.reply_with, in_reply_to=msg.in_reply_to,
             reply_by_nanos=msg.reply_by_nanos, priority=msg.priority,
             params=params, trace=msg.trace, content=content)
