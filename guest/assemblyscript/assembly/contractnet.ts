// Contract Net (fipa-contract-net) for a participant, like the Go
// contractnet.Participant and the Rust crate's: a Bidder decides, the
// Participant speaks the protocol and remembers its open bids.
import { AgentError, Context } from "./context";
import { Message } from "./message";
import { Performative } from "./performative";

export const PROTOCOL = "fipa-contract-net";

/** A bid's offer: its content is {"cost":C} (and "score" when set). */
export class Offer {
  score: f64 = 0;
  constructor(public cost: f64) {}

  encode(): string {
    let s = "{\"cost\":" + this.cost.toString();
    if (this.score != 0) s += ",\"score\":" + this.score.toString();
    return s + "}";
  }
}

/** What a Bidder answers a call for proposals with. */
export class Bid {
  private constructor(public offer: Offer | null, public refuse: bool, public reason: string) {}

  static propose(o: Offer): Bid { return new Bid(o, false, ""); }
  static refuse(reason: string): Bid { return new Bid(null, true, reason); }
  static notUnderstood(reason: string): Bid { return new Bid(null, false, reason); }
}

/** The decisions of a Contract Net participant. */
export abstract class Bidder {
  /** Answers a call for proposals. */
  abstract bid(cfp: Message, ctx: Context): Bid;
  /** Does the work of an accepted bid; its result is the inform's content. */
  abstract execute(cfp: Message, accept: Message, offer: Offer, ctx: Context): Uint8Array;
  /** Hears that a bid was rejected (default: nothing). */
  rejected(reject: Message, offer: Offer, ctx: Context): void {}
}

class OpenBid {
  constructor(public conv: string, public from: string, public cfp: Message, public offer: Offer, public seq: u64) {}
}

/**
 * Speaks Contract Net for a Bidder: answers cfp with propose / refuse /
 * not-understood, accept-proposal with inform (or not-understood when no
 * bid is open), reject-proposal by forgetting, cancel with inform or
 * failure. At most maxOpen bids are kept, the oldest dropped first.
 */
export class Participant {
  open: OpenBid[] = [];
  maxOpen: i32 = 64;
  private seq: u64 = 0;

  constructor(public bidder: Bidder) {}

  private find(m: Message): i32 {
    for (let i = 0; i < this.open.length; i++) {
      if (this.open[i].conv == m.conversationId && this.open[i].from == m.sender) return i;
    }
    return -1;
  }

  /** Handles one message; a handler for the agent. */
  handle(m: Message, ctx: Context): AgentError | null {
    const i = this.find(m);
    switch (m.performative) {
      case Performative.Cfp: {
        if (i >= 0) this.open.splice(i, 1); // a new round replaces the bid
        const b = this.bidder.bid(m, ctx);
        if (b.offer == null) {
          ctx.replyText(b.refuse ? Performative.Refuse : Performative.NotUnderstood, b.reason);
          return null;
        }
        const offer = b.offer!;
        const r = m.reply(Performative.Propose).withText(offer.encode());
        r.language = "json";
        r.encoding = "";
        ctx.send(r);
        this.open.push(new OpenBid(m.conversationId, m.sender, m, offer, ++this.seq));
        if (this.open.length > this.maxOpen) this.open.shift();
        return null;
      }
      case Performative.AcceptProposal: {
        if (i < 0) {
          ctx.replyText(Performative.NotUnderstood, "no open proposal in this conversation");
          return null;
        }
        const b = this.open[i];
        ctx.reply(Performative.Inform, this.bidder.execute(b.cfp, m, b.offer, ctx));
        this.open.splice(i, 1);
        return null;
      }
      case Performative.RejectProposal: {
        if (i >= 0) {
          const b = this.open[i];
          this.open.splice(i, 1);
          this.bidder.rejected(m, b.offer, ctx);
        }
        return null;
      }
      case Performative.Cancel: {
        if (i < 0) {
          ctx.replyText(Performative.Failure, "no open proposal in this conversation");
          return null;
        }
        this.open.splice(i, 1);
        ctx.replyText(Performative.Inform, "");
        return null;
      }
    }
    ctx.replyText(Performative.NotUnderstood, "not part of contract net for a participant");
    return null;
  }
}
