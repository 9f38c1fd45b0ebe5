// bidder: takes part in Contract Net with caxton.contractNet.participant,
// like the marketplace's Go bidder. A call's content is a task,
// {"name": "...", "kind": "text" | "video", "size": N}; the bid is
// {"cost": RATE * size}, where RATE comes from the environment variable
// RATE if the host grants one (default 1). Video needs a GPU, which it has
// only if GPU=yes is granted; otherwise it refuses. On acceptance it
// reports "<name>: <size> units done by a JavaScript agent for <cost>".
const rate = (() => {
  const r = Number(caxton.env('RATE'));
  return Number.isFinite(r) && r > 0 ? r : 1;
})();
const gpu = caxton.env('GPU') === 'yes';

function task(cfp) {
  let t;
  try {
    t = JSON.parse(cfp.text);
  } catch (e) {
    throw caxton.notUnderstood('not a task: ' + e.message);
  }
  const name = typeof t.name === 'string' ? t.name : '';
  const kind = typeof t.kind === 'string' ? t.kind : 'text';
  const size = typeof t.size === 'number' ? t.size : 0;
  if (name === '' || !(size > 0)) throw caxton.notUnderstood('task needs a name and a positive size');
  return { name, kind, size };
}

const handle = caxton.contractNet.participant({
  bid(cfp) {
    const t = task(cfp);
    if (t.kind === 'video' && !gpu) throw caxton.refuse('no GPU in this sandbox');
    return { cost: rate * t.size };
  },
  execute(cfp, accept, offer) {
    const t = task(cfp);
    return t.name + ': ' + t.size + ' units done by a JavaScript agent for ' + offer.cost.toFixed(2);
  },
});
