// Package protocol implements the FIPA interaction protocols as typed Go
// helpers, so no user hand-rolls conversation bookkeeping: request
// (SC00026H), query-if and query-ref (SC00027H), subscribe (SC00035H) and
// propose (SC00036H), each as an initiator method on Client and a responder
// type. Contract Net, the larger protocol, lives in package contractnet and
// is built on the same Client.
//
// # Why here
//
// The protocols share one piece of machinery — a conversation layer that
// owns an inbox, routes each arrival to its conversation and answers
// strays — and nothing else; one package per two-message protocol would
// scatter that layer, and acl must stay the vocabulary, not the behaviour.
// The package depends only on acl and clock (not on the runtime), so the
// responder types compile into wasm guests too: a Responder answers through
// the small Conn interface, which *caxton.MessageContext satisfies on the
// host and the guest SDK adapts in wasm.
//
// # Initiating
//
// A Client reads one Endpoint (a *caxton.Inbox) and runs any number of
// conversations on it concurrently:
//
//	ib, _ := rt.NewInbox("buyer")
//	c := protocol.NewClient(ib)
//	defer c.Close()
//	req := acl.New(acl.Request, "seller")
//	req.Content = []byte(`{"sku":"A-1"}`)
//	ans, err := c.Request(ctx, req)
//
// Deadlines come from the message's ReplyBy, measured on the client's clock
// — the endpoint's when it has one (Clocked): a runtime inbox brings the
// runtime's, so a fake clock drives them in tests — and from ctx.
//
// # Responding
//
// Responder types (RequestResponder, QueryResponder, SubscribeResponder,
// ProposeResponder, contractnet.Participant) become an agent's handler with
// caxton.ProtocolHandler, or a wasm agent's with guest.Respond; Mux combines
// several by protocol name.
package protocol

// Protocol names, the values of the protocol parameter.
const (
	FIPARequest             = "fipa-request"
	FIPAQuery               = "fipa-query"
	FIPASubscribe           = "fipa-subscribe"
	FIPAPropose             = "fipa-propose"
	FIPAContractNet         = "fipa-contract-net"
	FIPAIteratedContractNet = "fipa-iterated-contract-net"
)

// SeqParam is the user parameter that numbers a subscription's informs
// (1, 2, ...), so the subscriber can check it sees them in order.
const SeqParam = "X-Seq"
