# echo: answers every message with an `inform` carrying the same content
# (bytes stay bytes), in the same conversation, protocol, language,
# encoding and ontology.
def handle(msg, ctx):
    if msg.bytes is not None:
        ctx.reply("inform", msg.bytes)
    else:
        ctx.reply("inform", msg.text)
