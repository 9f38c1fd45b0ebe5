// bidder: takes part in Contract Net with Participant, like the Go, C and
// Rust bidders. A call's content is a task,
// {"name":"…","kind":"text"|"video","size":N}; the bid is {"cost": RATE ×
// size}, where RATE comes from the environment variable RATE if the host
// grants one (default 1). Video needs a GPU, which it has only if GPU=yes is
// granted; otherwise it refuses. On acceptance it reports
// "<name>: <size> units done by an AssemblyScript agent for <cost>".
import { AgentError, Bid, Bidder, Context, getenv, handle, jsonNumber, jsonString, Message, Offer, Participant } from "../assembly";
export { caxton_abi_version, caxton_alloc, caxton_handle } from "../assembly";

class Rates extends Bidder {
  rate: f64 = 1;
  gpu: bool = false;

  bid(cfp: Message, ctx: Context): Bid {
    const task = cfp.text();
    const name = jsonString(task, "name");
    const size = jsonNumber(task, "size");
    if (name == null || name.length == 0 || !(size > 0)) return Bid.notUnderstood("task needs a name and a positive size");
    const kind = jsonString(task, "kind");
    if (kind != null && kind == "video" && !this.gpu) return Bid.refuse("no GPU in this sandbox");
    return Bid.propose(new Offer(this.rate * size));
  }

  execute(cfp: Message, accept: Message, offer: Offer, ctx: Context): Uint8Array {
    const task = cfp.text();
    const name = jsonString(task, "name");
    const text = (name == null ? "?" : name) + ": " + jsonNumber(task, "size").toString() +
      " units done by an AssemblyScript agent for " + offer.cost.toString();
    return Uint8Array.wrap(String.UTF8.encode(text));
  }
}

const rates = new Rates();
const rate = getenv("RATE");
if (rate != null) {
  const r = parseFloat(rate!);
  if (r > 0 && isFinite(r)) rates.rate = r;
}
const gpu = getenv("GPU");
rates.gpu = gpu != null && gpu! == "yes";
const participant = new Participant(rates);

handle((m: Message, ctx: Context): AgentError | null => participant.handle(m, ctx));
