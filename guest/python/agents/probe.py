# probe: the conformance suite's test agent. It does what the content says
# and answers `inform` to reply_to or sender:
#
#   fail            fails, worth retrying (nothing is answered)
#   fatal           fails permanently
#   log:TEXT        logs TEXT at info level; answers "logged"
#   tool:NAME:ARGS  calls host tool NAME with the JSON ARGS; answers
#                   "STATUS:RESULT" (STATUS: the ABI's number, 0 for ok)
#   grow:N          allocates and keeps N MiB; answers "grew"
#   spin            loops forever (until the deadline or the fuel ends)
#   anything else   answers "ok:" and the content
import json

kept = []


def split(text):
    i = text.find(":")
    if i < 0:
        return text, ""
    return text[:i], text[i + 1:]


def handle(msg, ctx):
    text = msg.text
    cmd, arg = split(text)
    if cmd == "fail":
        raise RuntimeError("asked to fail")
    if cmd == "fatal":
        raise PermanentError("asked to fail for good")
    if cmd == "log":
        ctx.log(arg)
        ctx.reply("inform", "logged")
        return
    if cmd == "tool":
        name, args = split(arg)
        if args == "":
            args = {}
        else:
            args = json.loads(args)
        status, code, result = ctx.call_tool_raw(name, args)
        ctx.reply("inform", str(code) + ":" + result)
        return
    if cmd == "grow":
        mib = int(arg)
        if mib < 0:
            raise PermanentError("grow:N wants a number")
        for k in range(mib):
            kept.append("x" * (1 << 20))
        ctx.reply("inform", "grew")
        return
    if cmd == "spin":
        while True:
            pass
    ctx.reply("inform", "ok:" + text)
