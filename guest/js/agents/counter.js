// counter: counts the messages it has received and answers each with an
// `inform` whose content is the count so far, in decimal ("1", "2", ...).
// The count lives in the script's globals, so it survives across batches
// for as long as the instance lives (a trap or an ABI violation replaces
// the instance, which starts again from zero).
let count = 0;

function handle(msg, ctx) {
  count++;
  ctx.reply('inform', String(count));
}
