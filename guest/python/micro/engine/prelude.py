# The Python agent API (guest/python/README.md) for the micro engine,
# run in every instance before the agent's script: the gpython engine's
# prelude (../engine/prelude.py) with the API's exception classes defined
# here, in Python (the gpython engine makes them in Go). Names starting
# with an underscore are the engine's; the rest is the API.


class PermanentError(Exception):
    """Raised by handle: the message is dead-lettered at once, without retries."""


class ToolError(Exception):
    """A tool call that did not succeed: e.args is (message, tool, status, code, reason)."""


class _Refusal(Exception):
    """A Contract Net participant's refusal (caxton.refuse, caxton.not_understood)."""


def _tool_error(name, status, code, reason):
    # str(e) is the message, e.args is (message, tool, status, code, reason).
    return ToolError("tool " + name + ": " + status + ": " + reason, name, status, code, reason)


def _refusal(performative, reason):
    return _Refusal(reason, performative)


class _JSON:
    """json.loads / json.dumps, also importable as `import json`."""

    def loads(self, s):
        return _json_loads(s)

    def dumps(self, v):
        return _json_dumps(v)


_json = _JSON()

_LEVELS = {"debug": -4, "info": 0, "warn": 4, "error": 8}


def _text(args):
    out = ""
    for a in args:
        if out != "":
            out = out + " "
        if isinstance(a, str):
            out = out + a
        elif isinstance(a, dict) or isinstance(a, list) or isinstance(a, tuple):
            out = out + _json_dumps(a)
        else:
            out = out + str(a)
    return out


class Message:
    """An ACL message: its fields as attributes; text, bytes and content
    hold the content (see the README). The engine makes these in C and
    sets the fields as attributes."""

    def __getattr__(self, name):
        # content is computed when first read, as JavaScript's getter is:
        # content that is not JSON fails only the handler that reads it.
        if name != "content":
            raise AttributeError("'Message' object has no attribute '" + name + "'")
        if self.bytes is not None:
            c = self.bytes
        elif self.language == "json" or self.language == "application/json":
            c = _json_loads(self.text)
        else:
            c = self.text
        self.content = c
        return c

    def json(self):
        """The content parsed as JSON, whatever the language says."""
        if self.text is None:
            raise ValueError("the content is not UTF-8 text")
        return _json_loads(self.text)

    def __repr__(self):
        return "<Message " + self.performative + " from " + self.sender + ">"


class Context:
    """What handle gets beside the message: sending, logging, the clock
    and tools. Sends leave when handle returns; if it raises, none do.
    The engine makes one per message, with _msg set to the message."""

    def send(self, fields=None, **kw):
        """Sends a message: a dict of fields, or the fields as keywords."""
        f = {}
        if fields is not None:
            f.update(fields)
        if kw:
            f.update(kw)
        _host_send(f)

    def reply(self, performative, content=None, fields=None, **kw):
        """Answers the message being handled (see reply_to)."""
        self.reply_to(self._msg, performative, content, fields, **kw)

    def reply_to(self, msg, performative, content=None, fields=None, **kw):
        """Answers msg, an earlier message: to its reply_to (else its
        sender), in its conversation, in_reply_to its reply_with, with its
        protocol, language, encoding and ontology; fields or keywords
        override any of them."""
        to = msg.reply_to
        if not to:
            to = msg.sender
        if not to:
            raise ValueError("cannot reply: the message has neither reply_to nor sender")
        f = {"performative": performative, "receivers": [to], "content": content,
             "conversation_id": msg.conversation_id, "in_reply_to": msg.reply_with,
             "protocol": msg.protocol, "language": msg.language, "encoding": msg.encoding,
             "ontology": msg.ontology}
        if fields is not None:
            f.update(fields)
        if kw:
            f.update(kw)
        _host_send(f)

    def log(self, *args):
        """Logs at info level; arguments that are not str are written as JSON (dict, list) or str()."""
        _host_log(0, _text(args))

    def debug(self, *args):
        _host_log(-4, _text(args))

    def warn(self, *args):
        _host_log(4, _text(args))

    def error(self, *args):
        _host_log(8, _text(args))

    def now(self):
        """The runtime's clock, in seconds since the Unix epoch (a float)."""
        return _host_now() / 1e9

    def now_nanos(self):
        """The runtime's clock, in nanoseconds since the Unix epoch."""
        return _host_now()

    def call_tool(self, name, args=None):
        """Calls a granted host tool; returns its result parsed as JSON (or
        its text), or raises ToolError."""
        status, code, text = self.call_tool_raw(name, args)
        if code != 0:
            raise _tool_error(name, status, code, text)
        try:
            return _json_loads(text)
        except ValueError:
            return text

    def call_tool_raw(self, name, args=None):
        """The same without raising: (status, code, text)."""
        if args is None:
            args = {}
        return _host_tool(name, args)


def print(*args):
    """print writes to the runtime's log at info level."""
    _host_log(0, _text(args))


class _Participant:
    # A class, not a closure, as in the gpython engine's prelude.
    def __init__(self, bid, execute, rejected, cancelled):
        self.bid = bid
        self.execute = execute
        self.rejected = rejected
        self.cancelled = cancelled
        self.offers = {}

    def handle(self, msg, ctx):
        conv = msg.conversation_id
        p = msg.performative
        if p == "cfp":
            try:
                offer = self.bid(msg, ctx)
            except _Refusal as r:
                ctx.reply(r.args[1], r.args[0])
                return
            self.offers[conv] = (msg, offer)
            ctx.reply("propose", offer, language="json")
        elif p == "accept-proposal":
            if conv not in self.offers:
                ctx.reply("failure", "no proposal in this conversation")
                return
            cfp, offer = self.offers[conv]
            del self.offers[conv]
            try:
                result = self.execute(cfp, msg, offer, ctx)
            except Exception as e:
                ctx.reply("failure", str(e))
                return
            ctx.reply("inform", result)
        elif p == "reject-proposal":
            if conv in self.offers:
                cfp, offer = self.offers[conv]
                del self.offers[conv]
                if self.rejected is not None:
                    self.rejected(cfp, msg, offer, ctx)
        elif p == "cancel":
            if conv in self.offers:
                del self.offers[conv]
            if self.cancelled is not None:
                self.cancelled(msg, ctx)
            ctx.reply("inform", "cancelled")
        else:
            ctx.reply("not-understood", p)


class _ContractNet:
    def participant(self, bid, execute, rejected=None, cancelled=None):
        """A handle that speaks FIPA Contract Net as a participant:
        bid(cfp, ctx) returns the offer (sent as JSON) or raises
        caxton.refuse(why) / caxton.not_understood(why); execute(cfp,
        accept, offer, ctx) returns the result sent with inform (an
        exception answers failure); rejected(cfp, reject, offer, ctx) and
        cancelled(cancel, ctx) are optional."""
        return _Participant(bid, execute, rejected, cancelled).handle


class _Caxton:
    """The caxton namespace: env, refuse, not_understood, contract_net."""

    def __init__(self):
        self.contract_net = _ContractNet()

    def env(self, name):
        """An environment variable the host granted, or None."""
        return _host_env(name)

    def refuse(self, reason):
        """raise caxton.refuse('why') in a bid: answers refuse."""
        return _refusal("refuse", reason)

    def not_understood(self, reason):
        """raise caxton.not_understood('why') in a bid: answers not-understood."""
        return _refusal("not-understood", reason)


caxton = _Caxton()


def _loaded():
    try:
        h = handle
    except NameError:
        raise TypeError("the script defines no handle(msg, ctx)")
    if not callable(h):
        raise TypeError("handle is not a function")
