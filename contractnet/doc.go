// Package contractnet implements the FIPA Contract Net interaction protocol
// (SC00029H) and its iterated variant (SC00030H): an initiator calls for
// proposals, capable participants bid, the best bids win, and the winners
// report their results.
//
// The Initiator runs negotiations over a protocol.Client (any number at
// once, each its own conversation); the Participant is a protocol.Responder
// with one typed callback per step, so an agent bids without touching
// conversation bookkeeping — natively (caxton.ProtocolHandler) or inside a
// wasm guest (guest.Respond), with the same code.
//
//	ib, _ := rt.NewInbox("auctioneer")
//	client := protocol.NewClient(ib)
//	in := &contractnet.Initiator{Client: client, Directory: rt, Select: contractnet.LowestCost(1)}
//	cfp := acl.New(acl.CFP, contractnet.Capability("transport"))
//	cfp.Content = []byte(`{"from":"Oslo","to":"Bergen"}`)
//	cfp.ReplyBy = rt.Clock().Now().Add(2 * time.Second)
//	res, err := in.Run(ctx, cfp)
//
// # The rules it keeps
//
//   - The call's reply-by is the proposal deadline. A proposal is late when
//     the runtime stamped it (CreatedAt) at or after the deadline — not when
//     the initiator happens to read it — and a late proposal is answered
//     with reject-proposal saying so, even after the negotiation ended.
//   - Winners get accept-proposal; every other proposer gets
//     reject-proposal. Phase two waits, until ResultTimeout, for each
//     winner's inform (inform-done when empty, inform-result otherwise) or
//     failure (a not-understood counts as one); a winner that stays silent
//     is sent cancel.
//   - Cancel, or the end of the caller's context, sends cancel to everyone
//     still in play; Cancel also collects their inform-done / failure.
//   - A message that breaks the protocol (out of sequence, a foreign
//     conversation-id, a second answer, a stranger's proposal) is answered
//     with not-understood and listed in Result.Violations — never dropped.
//   - Offers travel as JSON (Offer) so the built-in selectors compare bids
//     from native, wasm and hand-written agents alike.
package contractnet
