// The agent API of Caxton's JavaScript guests, run before the agent's
// script. engine.c evaluates this expression and calls it with its native
// functions; it returns [dispatch, messagePrototype]. Everything the agent
// sees is defined here: handle(msg, ctx)'s ctx, the message objects,
// console, PermanentError, ToolError and the caxton namespace (act names,
// contractNet.participant). README.md documents it for agent authors.
(function (native) {
  'use strict';

  const ACTS = ['accept-proposal', 'agree', 'cancel', 'cfp', 'confirm', 'disconfirm',
    'failure', 'inform', 'inform-if', 'inform-ref', 'not-understood', 'propagate',
    'propose', 'proxy', 'query-if', 'query-ref', 'refuse', 'reject-proposal', 'request',
    'request-when', 'request-whenever', 'subscribe'];
  const ACT = Object.create(null);
  ACTS.forEach((a, i) => { ACT[a] = i + 1; });
  const LEVELS = { debug: -4, info: 0, warn: 4, error: 8 };
  const PRIORITIES = { low: -1, normal: 0, high: 1 };
  const PRIORITY_NAMES = ['low', 'normal', 'high'];
  const STATUS = ['ok', 'tool-error', 'denied', 'rate-limited', 'timeout', 'unavailable',
    'bad-arguments', 'too-large'];
  const FAILED = -2, PERMANENT = -3, OUT_OF_MEMORY = -100;

  // PermanentError fails the message without retries: the runtime
  // dead-letters it at once. Any other exception is retried with backoff.
  class PermanentError extends Error {
    constructor(message) { super(message); this.name = 'PermanentError'; }
  }

  // ToolError is what ctx.callTool throws when the call did not succeed:
  // status is one of 'tool-error', 'denied', 'rate-limited', 'timeout',
  // 'unavailable', 'bad-arguments', 'too-large' (code: its number in the
  // ABI, 1 to 7); reason is the host's text.
  class ToolError extends Error {
    constructor(tool, status, reason, code) {
      super('tool ' + tool + ': ' + status + ': ' + reason);
      this.name = 'ToolError';
      this.tool = tool;
      this.status = status;
      this.reason = reason;
      this.code = code;
    }
  }

  // Messages: engine.c fills performative, sender, receivers, replyTo,
  // language, encoding, ontology, protocol, conversationId, replyWith,
  // inReplyTo, text, bytes, id, params, trace, priority and the times in
  // nanoseconds; the prototype adds what is computed.
  const isJSON = (language) => {
    const l = (language || '').toLowerCase();
    return l === 'json' || l === 'application/json';
  };
  const messagePrototype = {
    // content is the parsed JSON when the message's language says JSON
    // ("json" or "application/json"), otherwise the text.
    get content() { return isJSON(this.language) ? JSON.parse(this.text) : this.text; },
    // json parses the content as JSON whatever the language says.
    json() { return JSON.parse(this.text); },
    // createdAt and replyBy are Dates (milliseconds); createdAtNanos and
    // replyByNanos (BigInt, 0n: none) are the exact times.
    get createdAt() { return new Date(Number(this.createdAtNanos / 1000000n)); },
    get replyBy() { return this.replyByNanos ? new Date(Number(this.replyByNanos / 1000000n)) : null; },
  };
  Object.defineProperty(messagePrototype, 'priority', {
    get() { return PRIORITY_NAMES[this._priority + 1] || 'normal'; },
  });

  const str = (v, field) => {
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw new TypeError('send: ' + field + ' must be a string, not ' + typeof v);
    return v;
  };
  const strMap = (v, field) => {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object') throw new TypeError('send: ' + field + ' must be an object of strings');
    for (const k of Object.keys(v)) {
      if (typeof v[k] !== 'string') throw new TypeError('send: ' + field + '.' + k + ' must be a string');
    }
    return v;
  };
  // nanos reads a time: a Date, milliseconds (as Date.now()), or BigInt
  // nanoseconds.
  const nanos = (v, field) => {
    if (v === undefined || v === null || v === 0 || v === 0n) return 0n;
    if (typeof v === 'bigint') return v;
    if (v instanceof Date && isFinite(v.getTime())) return BigInt(v.getTime()) * 1000000n;
    if (typeof v === 'number' && isFinite(v)) return BigInt(Math.round(v)) * 1000000n;
    throw new TypeError('send: ' + field + ' must be a Date, milliseconds, or BigInt nanoseconds');
  };

  // send validates an outgoing message and hands it to the outbox. It
  // returns nothing: the message leaves when the whole batch succeeds.
  function send(m) {
    if (m === null || typeof m !== 'object') throw new TypeError('send: the message must be an object');
    const p = ACT[m.performative];
    if (!p) throw new TypeError('send: performative ' + JSON.stringify(m.performative) + ' is not a FIPA act (' + ACTS.join(', ') + ')');
    let receivers = m.receivers;
    if (typeof receivers === 'string') receivers = [receivers];
    if (!Array.isArray(receivers) || receivers.length === 0) throw new TypeError('send: receivers must be a non-empty array of agent names');
    receivers.forEach((r, i) => { if (typeof r !== 'string' || r === '') throw new TypeError('send: receivers[' + i + '] must be a non-empty string'); });
    if (m.sender !== undefined && m.sender !== null && m.sender !== '') throw new TypeError('send: sender is stamped by the runtime; leave it unset');
    let language = str(m.language, 'language');
    let content = m.content;
    if (content === undefined) content = '';
    else if (content instanceof ArrayBuffer) { /* bytes as they are */ }
    else if (ArrayBuffer.isView(content)) content = content.buffer.slice(content.byteOffset, content.byteOffset + content.byteLength);
    else if (typeof content !== 'string') {
      content = JSON.stringify(content);
      if (content === undefined) throw new TypeError('send: content cannot be encoded as JSON');
      if (language === '') language = 'json';
    }
    let priority = 0;
    if (m.priority !== undefined && m.priority !== null) {
      priority = PRIORITIES[m.priority];
      if (priority === undefined) throw new TypeError('send: priority must be "low", "normal" or "high"');
    }
    native.send(p, receivers, str(m.replyTo, 'replyTo'), language, str(m.encoding, 'encoding'),
      str(m.ontology, 'ontology'), str(m.protocol, 'protocol'), str(m.conversationId, 'conversationId'),
      str(m.replyWith, 'replyWith'), str(m.inReplyTo, 'inReplyTo'),
      m.replyByNanos !== undefined ? nanos(m.replyByNanos, 'replyByNanos') : nanos(m.replyBy, 'replyBy'),
      priority, strMap(m.params, 'params'), strMap(m.trace, 'trace'), content);
  }

  // replyTo builds a reply to m, as the Go acl.Message.CreateReply does:
  // to m's replyTo (or its sender), in its conversation, in reply to its
  // replyWith, with its protocol, language, encoding and ontology.
  function replyTo(m, performative, content) {
    const receivers = m.replyTo ? [m.replyTo] : m.sender ? [m.sender] : [];
    if (receivers.length === 0) throw new Error('cannot reply: the message has neither replyTo nor sender');
    return {
      performative, receivers, content, conversationId: m.conversationId, inReplyTo: m.replyWith,
      protocol: m.protocol, language: m.language, encoding: m.encoding, ontology: m.ontology,
    };
  }

  const text = (args) => args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? String(a) : JSON.stringify(a))).join(' ');
  const logAt = (level) => (...args) => native.log(level, text(args));

  // Context is handle's second argument: the current message and the
  // host's services.
  class Context {
    constructor(msg) { this.message = msg; }
    // send queues a message (an object with performative, receivers,
    // content and any other ACL field).
    send(m) { send(m); }
    // reply answers the current message. content: a string, bytes, or any
    // other value (sent as JSON); fields: more ACL fields to set.
    reply(performative, content, fields) { this.replyTo(this.message, performative, content, fields); }
    // replyTo answers an earlier message m, kept from another call of
    // handle (a conversation that waited on other agents), as reply does.
    replyTo(m, performative, content, fields) {
      const r = replyTo(m, performative, content);
      if (fields) Object.assign(r, fields);
      if (content !== undefined && typeof content !== 'string' && !(content instanceof ArrayBuffer) && !ArrayBuffer.isView(content) && !(fields && fields.language)) {
        r.language = 'json';
      }
      send(r);
    }
    // log writes to the runtime's log under the agent's name.
    log(...args) { native.log(0, text(args)); }
    debug(...args) { native.log(-4, text(args)); }
    warn(...args) { native.log(4, text(args)); }
    error(...args) { native.log(8, text(args)); }
    // now is the runtime's clock (a fake clock in tests).
    now() { return new Date(Number(native.now() / 1000000n)); }
    // nowNanos is the runtime's clock in Unix nanoseconds (BigInt).
    nowNanos() { return native.now(); }
    // callTool calls a host tool the agent was granted and returns its
    // result (parsed JSON, or text); any other outcome throws a ToolError.
    callTool(name, args) {
      const r = this.callToolRaw(name, args);
      if (r.code !== 0) throw new ToolError(name, r.status, r.text, r.code);
      try { return JSON.parse(r.text); } catch (e) { return r.text; }
    }
    // callToolRaw calls a host tool and returns the outcome as it came:
    // {status: 'ok' or a ToolError status, code: its number, text: the
    // result or the host's reason}.
    callToolRaw(name, args) {
      if (typeof name !== 'string' || name === '') throw new TypeError('callTool: name must be a non-empty string');
      const r = native.toolCall(name, JSON.stringify(args === undefined ? {} : args));
      return { status: STATUS[r[0]] || 'status ' + r[0], code: r[0], text: r[1] };
    }
  }

  // contractNet.participant turns bid/execute callbacks into a handler,
  // speaking FIPA Contract Net the way the Go contractnet.Participant does:
  // cfp -> propose (the offer {cost, score?, detail?} as JSON) or refuse
  // (throw caxton.refuse(reason)), or not-understood for a call it cannot
  // read (throw caxton.notUnderstood(reason)); accept-proposal -> execute, then inform
  // (the result) or failure (the error's message); reject-proposal ->
  // rejected(); cancel -> inform; anything else -> not-understood.
  class Refusal extends Error {
    constructor(reason, performative) {
      super(reason);
      this.name = 'Refusal';
      this.performative = performative || 'refuse';
    }
  }
  function participant(spec) {
    if (!spec || typeof spec.bid !== 'function') throw new TypeError('contractNet.participant: bid(cfp, ctx) is required');
    const open = new Map(); // conversation + initiator -> {cfp, offer}
    const MAX_OPEN = 10000;
    const key = (m) => m.conversationId + '\u0000' + m.sender;
    const reason = (ctx, p, why) => ctx.reply(p, String(why), { language: 'text/plain', encoding: '', ontology: '' });
    return function handle(m, ctx) {
      const k = key(m);
      switch (m.performative) {
        case 'cfp': {
          let offer;
          try {
            offer = spec.bid(m, ctx);
          } catch (e) {
            if (e instanceof Refusal) { open.delete(k); reason(ctx, e.performative, e.message); return; }
            throw e;
          }
          if (offer === null || offer === undefined) { open.delete(k); reason(ctx, 'refuse', 'no offer'); return; }
          if (typeof offer.cost !== 'number' || !isFinite(offer.cost)) { open.delete(k); reason(ctx, 'refuse', 'offer: cost must be a finite number'); return; }
          open.delete(k);
          open.set(k, { cfp: m, offer });
          if (open.size > MAX_OPEN) open.delete(open.keys().next().value);
          const o = { cost: offer.cost };
          if (offer.score) o.score = offer.score;
          if (offer.detail !== undefined) o.detail = offer.detail;
          ctx.reply('propose', JSON.stringify(o), { language: 'json', encoding: '' });
          return;
        }
        case 'accept-proposal': {
          const b = open.get(k);
          if (!b) { reason(ctx, 'not-understood', 'no open proposal in this conversation'); return; }
          if (typeof spec.execute !== 'function') { open.delete(k); reason(ctx, 'failure', 'this participant cannot execute'); return; }
          let result;
          try {
            result = spec.execute(b.cfp, m, b.offer, ctx);
          } catch (e) {
            if (e instanceof PermanentError || !(e instanceof Error)) throw e;
            open.delete(k);
            reason(ctx, 'failure', e.message);
            return;
          }
          open.delete(k);
          ctx.reply('inform', result === undefined || result === null ? '' : result);
          return;
        }
        case 'reject-proposal': {
          const b = open.get(k);
          open.delete(k);
          if (b && typeof spec.rejected === 'function') spec.rejected(m, b.offer, ctx);
          return;
        }
        case 'cancel': {
          const b = open.get(k);
          if (!b) { reason(ctx, 'failure', 'no open proposal in this conversation'); return; }
          open.delete(k);
          if (typeof spec.cancelled === 'function') {
            try { spec.cancelled(m, b.offer, ctx); } catch (e) { reason(ctx, 'failure', e.message); return; }
          }
          ctx.reply('inform', '');
          return;
        }
        case 'not-understood':
          return;
        default:
          reason(ctx, 'not-understood', m.performative + ' is not part of contract net for a participant');
      }
    };
  }

  const g = globalThis;
  g.console = { log: logAt(0), info: logAt(0), debug: logAt(-4), warn: logAt(4), error: logAt(8) };
  g.PermanentError = PermanentError;
  g.ToolError = ToolError;
  g.caxton = Object.freeze({
    acts: Object.freeze(ACTS.slice()),
    levels: Object.freeze(Object.assign({}, LEVELS)),
    refuse: (why) => new Refusal(why, 'refuse'),
    notUnderstood: (why) => new Refusal(why, 'not-understood'),
    // env returns the environment variable the host granted
    // (sandbox.Grants.Env), or undefined.
    env: (name) => native.getenv(String(name)),
    Refusal,
    contractNet: Object.freeze({ participant }),
  });

  // dispatch runs the script's handle (h, looked up once when the script
  // loaded, whether a function declaration or a const) for one message,
  // and returns 0, -2 (retry), -3 (permanent) or OUT_OF_MEMORY. A handler
  // may be async; its promise must settle without an event loop (on host
  // calls and other promises), or it fails.
  function dispatch(msg, h) {
    const ctx = new Context(msg);
    try {
      let r = h(msg, ctx);
      if (r && typeof r.then === 'function') {
        let state = 0, err;
        r.then(() => { state = 1; }, (e) => { state = 2; err = e; });
        native.runJobs();
        if (state === 0) throw new Error('handle returned a promise that did not settle (there is no event loop: await only promises that settle by themselves)');
        if (state === 2) throw err;
      }
      return 0;
    } catch (e) {
      // Out of memory: the engine traps, so the instance is replaced with
      // a fresh one (the sandbox reports the memory limit) rather than go
      // on with a heap the script has filled.
      if (e instanceof InternalError && e.message === 'out of memory') return OUT_OF_MEMORY;
      const permanent = e instanceof PermanentError;
      let why = e instanceof Error ? e.name + ': ' + e.message : 'thrown: ' + text([e]);
      if (e instanceof Error && e.stack) why += '\n' + String(e.stack).trimEnd();
      native.log(4, 'javascript: handle failed' + (permanent ? ' permanently' : '') + ': ' + why);
      return permanent ? PERMANENT : FAILED;
    }
  }

  return [dispatch, messagePrototype];
})
