package contractnet

import (
	"context"

	"github.com/caxton-go/caxton/acl"
)

// Tracer traces negotiations. cntrace.Tracer (package contractnet/cntrace) implements it
// with OpenTelemetry; it is an interface so that this package — which
// compiles into wasm guests — does not depend on a tracing library.
type Tracer interface {
	// StartNegotiation begins tracing a negotiation. The context it returns
	// is the one the negotiation sends in, so the calls for proposals (and
	// everything they cause) belong to the negotiation's trace.
	StartNegotiation(ctx context.Context, conversationID string, cfp *acl.Message) (context.Context, NegotiationSpan)
}

// NegotiationSpan is one traced negotiation.
type NegotiationSpan interface {
	// Event records a step; it is called on the negotiation's goroutine.
	Event(Event)
	// End closes the span with the negotiation's result and error.
	End(*Result, error)
}

// endSpan ends the negotiation's span, after everything else it did.
func (n *Negotiation) endSpan() {
	if n.span != nil {
		n.span.End(n.res, n.err)
	}
}
