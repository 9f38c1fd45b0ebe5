package caxton

import (
	"context"

	"github.com/caxton-go/caxton/protocol"
)

// ProtocolHandler makes a protocol responder — protocol.RequestResponder,
// contractnet.Participant, a protocol.Mux of several — an agent's Handler.
// The responder answers through the MessageContext, so its replies are
// sent from the agent like any other.
func ProtocolHandler(r protocol.Responder) Handler {
	return HandlerFunc(func(ctx context.Context, mc *MessageContext) error {
		return r.Respond(ctx, mc.Message(), mc)
	})
}
