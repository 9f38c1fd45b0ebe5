// Package cntrace traces Contract Net negotiations with OpenTelemetry: set
// Tracer(tp) as contractnet.Initiator.Tracer. It lives apart from package
// contractnet, which compiles into wasm guests and imports no telemetry.
package cntrace

import (
	"context"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/telemetry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Tracer traces negotiations (set it as contractnet.Initiator.Tracer): each negotiation is one span
// ("contract-net"); the calls for proposals are sent inside it, so their
// send spans — and the participants' handling — are its descendants; each
// answer (propose, refuse, late proposal, result, failure ...) is a child
// span linked to the answer's own send span; other steps (accept, reject,
// cancel, silence) are span events.
func Tracer(tp trace.TracerProvider) contractnet.Tracer {
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	return cnTracer{tracer: tp.Tracer(telemetry.ScopeName, trace.WithInstrumentationVersion(telemetry.ScopeVersion()))}
}

type cnTracer struct{ tracer trace.Tracer }

func (c cnTracer) StartNegotiation(ctx context.Context, conversationID string, cfp *acl.Message) (context.Context, contractnet.NegotiationSpan) {
	ctx, sp := c.tracer.Start(ctx, "contract-net", trace.WithAttributes(
		telemetry.KeyConversationID.String(conversationID), telemetry.KeyProtocol.String(cfp.Protocol),
		telemetry.KeySender.String(string(cfp.Sender))))
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
	attrs := []attribute.KeyValue{telemetry.KeyParticipant.String(string(e.Participant)), telemetry.KeyRound.Int(e.Round)}
	if e.Reason != "" {
		attrs = append(attrs, telemetry.KeyReason.String(e.Reason))
	}
	if !answers[e.Kind] || e.Message == nil {
		s.span.AddEvent(e.Kind.String(), trace.WithAttributes(attrs...))
		return
	}
	opts := []trace.SpanStartOption{trace.WithAttributes(attrs...), trace.WithAttributes(
		telemetry.KeyPerformative.String(e.Message.Performative.String()), telemetry.KeyMessageID.String(e.Message.ID.String()))}
	if sc := trace.SpanContextFromContext(telemetry.Extract(context.Background(), e.Message)); sc.IsValid() {
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
		s.span.SetAttributes(telemetry.KeyAsked.Int(len(res.Asked())), telemetry.KeyProposals.Int(proposals),
			telemetry.KeyWinners.Int(len(res.Winners)), telemetry.KeySucceeded.Int(len(res.Succeeded())),
			telemetry.KeyLate.Int(len(res.Late)), telemetry.KeyViolations.Int(len(res.Violations)))
	}
	if err != nil {
		s.span.RecordError(err)
		s.span.SetStatus(codes.Error, err.Error())
	}
	s.span.End()
}
