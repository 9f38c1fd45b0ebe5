package telemetry

import (
	"context"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Attribute keys of Contract Net spans.
const (
	KeyParticipant = attribute.Key("caxton.contractnet.participant")
	KeyRound       = attribute.Key("caxton.contractnet.round")
	KeyAsked       = attribute.Key("caxton.contractnet.asked")
	KeyProposals   = attribute.Key("caxton.contractnet.proposals")
	KeyWinners     = attribute.Key("caxton.contractnet.winners")
	KeySucceeded   = attribute.Key("caxton.contractnet.succeeded")
	KeyLate        = attribute.Key("caxton.contractnet.late")
	KeyViolations  = attribute.Key("caxton.contractnet.violations")
)

// ContractNetTracer traces negotiations (set it as
// contractnet.Initiator.Tracer): each negotiation is one span
// ("contract-net"); the calls for proposals are sent inside it, so their
// send spans — and the participants' handling — are its descendants; each
// answer (propose, refuse, late proposal, result, failure ...) is a child
// span linked to the answer's own send span; other steps (accept, reject,
// cancel, silence) are span events.
func ContractNetTracer(tp trace.TracerProvider) contractnet.Tracer {
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	return cnTracer{tracer: tp.Tracer(ScopeName)}
}

type cnTracer struct{ tracer trace.Tracer }

func (c cnTracer) StartNegotiation(ctx context.Context, conversationID string, cfp *acl.Message) (context.Context, contractnet.NegotiationSpan) {
	ctx, sp := c.tracer.Start(ctx, "contract-net", trace.WithAttributes(
		KeyConversationID.String(conversationID), KeyProtocol.String(cfp.Protocol),
		KeySender.String(string(cfp.Sender))))
	return ctx, &cnSpan{tracer: c.tracer, ctx: ctx, span: sp}
}

type cnSpan struct {
	tracer trace.Tracer
	ctx    context.Context
	span   trace.Span
}

// answers are the steps that are a participant's message to the initiator.
var answers = map[contractnet.EventKind]bool{
	contractnet.EventPropose: true, contractnet.EventRefuse: true, contractnet.EventNotUnderstood: true,
	contractnet.EventLate: true, contractnet.EventViolation: true, contractnet.EventDone: true,
	contractnet.EventResult: true, contractnet.EventFailure: true, contractnet.EventCancelAck: true,
	contractnet.EventAfterEnd: true,
}

func (s *cnSpan) Event(e contractnet.Event) {
	attrs := []attribute.KeyValue{KeyParticipant.String(string(e.Participant)), KeyRound.Int(e.Round)}
	if e.Reason != "" {
		attrs = append(attrs, KeyReason.String(e.Reason))
	}
	if !answers[e.Kind] || e.Message == nil {
		s.span.AddEvent(e.Kind.String(), trace.WithAttributes(attrs...))
		return
	}
	opts := []trace.SpanStartOption{trace.WithAttributes(attrs...), trace.WithAttributes(
		KeyPerformative.String(e.Message.Performative.String()), KeyMessageID.String(e.Message.ID.String()))}
	if sc := trace.SpanContextFromContext(Extract(context.Background(), e.Message)); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	_, child := s.tracer.Start(s.ctx, "contract-net "+e.Kind.String(), opts...)
	if e.Kind == contractnet.EventFailure || e.Kind == contractnet.EventViolation {
		child.SetStatus(codes.Error, e.Reason)
	}
	child.End()
}

func (s *cnSpan) End(res *contractnet.Result, err error) {
	if res != nil {
		proposals := 0
		for _, r := range res.Rounds {
			proposals += len(r.Proposals)
		}
		s.span.SetAttributes(KeyAsked.Int(len(res.Asked())), KeyProposals.Int(proposals),
			KeyWinners.Int(len(res.Winners)), KeySucceeded.Int(len(res.Succeeded())),
			KeyLate.Int(len(res.Late)), KeyViolations.Int(len(res.Violations)))
	}
	if err != nil {
		s.span.RecordError(err)
		s.span.SetStatus(codes.Error, err.Error())
	}
	s.span.End()
}
