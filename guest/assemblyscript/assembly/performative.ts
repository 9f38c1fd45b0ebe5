// The 22 FIPA performatives, numbered as on the wire (sandbox/ABI.md), and
// message priorities.

/** A FIPA ACL performative; the values are the ABI's codes. */
export enum Performative {
  AcceptProposal = 1,
  Agree = 2,
  Cancel = 3,
  Cfp = 4,
  Confirm = 5,
  Disconfirm = 6,
  Failure = 7,
  Inform = 8,
  InformIf = 9,
  InformRef = 10,
  NotUnderstood = 11,
  Propagate = 12,
  Propose = 13,
  Proxy = 14,
  QueryIf = 15,
  QueryRef = 16,
  Refuse = 17,
  RejectProposal = 18,
  Request = 19,
  RequestWhen = 20,
  RequestWhenever = 21,
  Subscribe = 22,
}

const NAMES: string[] = [
  "", "accept-proposal", "agree", "cancel", "cfp", "confirm", "disconfirm", "failure", "inform",
  "inform-if", "inform-ref", "not-understood", "propagate", "propose", "proxy", "query-if",
  "query-ref", "refuse", "reject-proposal", "request", "request-when", "request-whenever", "subscribe",
];

/** The performative's FIPA name ("accept-proposal", ...), or "" outside 1..22. */
export function performativeName(p: Performative): string {
  return p >= 1 && p <= 22 ? NAMES[p] : "";
}

/** Message priorities, as on the wire. */
export enum Priority {
  Low = -1,
  Normal = 0,
  High = 1,
}
