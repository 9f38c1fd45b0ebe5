// clerk: files a finished job. Asked (fipa-request) to file a result, it
// has the C worker process it and the C counter number it, then answers
// the original request with both. A handler cannot wait for an answer, so
// the clerk keeps each conversation's state between messages.
const pending = new Map(); // conversation -> {request, filed}

function handle(msg, ctx) {
  const conv = msg.conversationId;
  if (msg.performative === 'request') {
    pending.set(conv, { request: msg });
    ctx.log('filing for', msg.sender, 'in', conv);
    ctx.send({ performative: 'request', receivers: ['c-worker'], content: msg.text,
      conversationId: conv, replyWith: 'work:' + conv });
    return;
  }
  const p = pending.get(conv);
  if (!p || msg.performative !== 'inform') {
    ctx.warn('unexpected', msg.performative, 'from', msg.sender);
    return;
  }
  if (msg.inReplyTo === 'work:' + conv) {
    p.filed = msg.text;
    ctx.send({ performative: 'request', receivers: ['c-counter'], content: 'next',
      conversationId: conv, replyWith: 'ticket:' + conv });
  } else if (msg.inReplyTo === 'ticket:' + conv) {
    pending.delete(conv);
    ctx.replyTo(p.request, 'inform', { ticket: Number(msg.text), filed: p.filed });
  }
}
