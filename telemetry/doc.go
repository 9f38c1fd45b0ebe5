// Package telemetry is Caxton's OpenTelemetry wiring: the spans, metrics
// and log correlation a runtime produces when it is given providers
// (caxton.WithTracerProvider, caxton.WithMeterProvider). Without providers
// the runtime holds no telemetry state and pays nothing: the hot path
// allocates exactly what it does without this package (see BENCHMARKS.md).
//
// # Traces
//
// Every send is a producer span ("send <performative>") and every handling
// attempt a consumer span ("process <performative>"). The producer span's
// context travels in the message's TraceContext field as W3C trace context
// (Carrier), so a host request, the agents it passes through — native or
// wasm — and the reply form one trace. A wasm batch gets one consumer span
// per message, each continuing its own sender's trace; what the guest emits
// continues the span of the message it answers (by in-reply-to, then
// conversation-id). Span attributes:
//
//	messaging.system            "caxton"
//	messaging.operation.type    "send" or "process"
//	caxton.agent                the handling agent (process)
//	caxton.instance             the replica (process)
//	caxton.sender               the sender
//	caxton.receivers            the receivers (send)
//	caxton.performative         the act
//	caxton.protocol             the interaction protocol
//	caxton.conversation_id      the conversation
//	caxton.message_id           the message id
//	caxton.attempt              the attempt number, 1 for the first (process)
//	caxton.wasm.batch_size      messages in the wasm batch (process, wasm)
//	caxton.wasm.fuel_used       fuel the batch consumed (process, wasm)
//	caxton.outcome              delivered, retry, dead_lettered, interrupted
//
// A failed attempt — handler error, panic, trap, deadline — is recorded on
// its span as an exception with status Error; its outcome says whether a
// retry follows or the message was dead-lettered. A Contract Net negotiation
// run with cntrace.Tracer (package contractnet/cntrace) is one span whose calls for proposals are its
// children and whose answers are recorded as child spans linked to the
// answer's own trace.
//
// # Metrics
//
// Instruments (unit in braces), with attributes caxton.agent and, for the
// message counters and the duration, caxton.performative:
//
//	caxton.messages.sent            counter {message}   routed by the bus, by sender
//	caxton.messages.delivered       counter {message}   handled successfully
//	caxton.messages.failed          counter {attempt}   failed attempts
//	caxton.messages.retried         counter {message}   attempts scheduled again
//	caxton.messages.dead_lettered   counter {message}   moved to the dead-letter queue
//	caxton.handler.duration         histogram s         one handler call (a batch for wasm)
//	caxton.mailbox.depth            gauge {message}     queued for the agent
//	caxton.instances.live           gauge {instance}    live handler instances
//	caxton.sandbox.memory.usage     gauge By            linear memory of wasm instances
//	caxton.sandbox.fuel.consumed    counter {fuel}      wasm fuel
//
// # Logs
//
// The runtime wraps its logger with LogHandler: a record logged with a
// context that carries a span gets trace_id and span_id. Handlers get that
// context; MessageContext.Logger adds the ids itself; guest logs (the
// caxton.log import and captured stdout/stderr) are logged with the agent's
// name and the batch's span.
package telemetry
