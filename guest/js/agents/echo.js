// echo: answers every message with an `inform` carrying the same content
// (bytes stay bytes), in the same conversation, protocol, language,
// encoding and ontology.
function handle(msg, ctx) {
  ctx.reply('inform', msg.bytes || msg.text);
}
