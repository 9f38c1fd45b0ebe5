# worker: does what it is asked. A `request` is answered with an `inform`
# whose content is "done:" followed by the request's content; anything
# else is answered with `not-understood` (content: the performative).
def handle(msg, ctx):
    if msg.performative != "request":
        ctx.reply("not-understood", msg.performative)
        return
    ctx.reply("inform", "done:" + msg.text)
