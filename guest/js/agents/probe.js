// probe: the conformance suite's test agent. It does what the content says
// and answers `inform` to replyTo or sender:
//
//   fail            fails, worth retrying (nothing is answered)
//   fatal           fails permanently
//   log:TEXT        logs TEXT at info level; answers "logged"
//   tool:NAME:ARGS  calls host tool NAME with the JSON ARGS; answers
//                   "STATUS:RESULT" (STATUS: the ABI's number, 0 for ok)
//   grow:N          allocates and touches N MiB, kept; answers "grew"
//   spin            loops forever (until the deadline or the fuel ends)
//   anything else   answers "ok:" and the content
const kept = [];

function handle(msg, ctx) {
  const text = msg.text;
  const i = text.indexOf(':');
  const cmd = i < 0 ? text : text.slice(0, i);
  const arg = i < 0 ? '' : text.slice(i + 1);
  switch (cmd) {
    case 'fail':
      throw new Error('asked to fail');
    case 'fatal':
      throw new PermanentError('asked to fail for good');
    case 'log':
      ctx.log(arg);
      ctx.reply('inform', 'logged');
      return;
    case 'tool': {
      const j = arg.indexOf(':');
      const name = j < 0 ? arg : arg.slice(0, j);
      const args = j < 0 ? {} : JSON.parse(arg.slice(j + 1));
      const r = ctx.callToolRaw(name, args);
      const out = r.code + ':' + r.text;
      ctx.reply('inform', out);
      return;
    }
    case 'grow': {
      const mib = Number(arg);
      if (!Number.isInteger(mib) || mib < 0) throw new PermanentError('grow:N wants a number');
      for (let k = 0; k < mib; k++) kept.push(new Uint8Array(1 << 20).fill(1));
      ctx.reply('inform', 'grew');
      return;
    }
    case 'spin':
      for (;;) { /* until the deadline or the fuel ends */ }
    default:
      ctx.reply('inform', 'ok:' + text);
  }
}
