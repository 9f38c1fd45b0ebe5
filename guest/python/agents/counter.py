# counter: counts the messages it has received and answers each with an
# `inform` whose content is the count so far, in decimal ("1", "2", ...).
# The count lives in the script's globals, so it survives across batches
# for as long as the instance lives.
count = 0


def handle(msg, ctx):
    global count
    count = count + 1
    ctx.reply("inform", str(count))
