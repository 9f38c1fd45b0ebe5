// Package telemetry is Caxton's OpenTelemetry wiring: the spans, metrics
// and log correlation a runtime produces when it is given providers
// (caxton.WithTracerProvider, caxton.WithMeterProvider). Without providers
// the runtime holds no telemetry state and pays nothing: the hot path
// allocates exactly what it does without this package (see BENCHMARKS.md).
//
// # Traces
//
// Spans follow OpenTelemetry's messaging semantic conventions (v1.44).
// Every send is a producer span named "send {destination}" and every
// handling attempt a consumer span named "process {agent}" — so a
// backend's operation list shows one entry per agent — with the act in
// caxton.performative (a send to several receivers is named "send"). The
// producer span's context travels in the message's TraceContext field,
// written and read by the runtime's Propagator (default: W3C trace context
// and W3C baggage; caxton.WithPropagator, or otelprop.Global for the one
// configured with otel.SetTextMapPropagator), so a host request, the
// agents it passes through — native or wasm — and the reply form one
// trace, and baggage the caller set reaches every handler. A wasm batch
// gets one consumer span per message, each continuing its own sender's
// trace; what the guest emits continues the span of the message it answers
// (by in-reply-to, then conversation-id). The attributes a span starts
// with (so a sampler sees them):
//
//	messaging.system                   "caxton"
//	messaging.operation.name           "send" or "process"
//	messaging.operation.type           "send" or "process"
//	messaging.destination.name         the receiver (send to one), the handling agent (process)
//	messaging.message.id               the message id (process; send, once stamped)
//	messaging.message.conversation_id  the conversation
//	caxton.sender                      the sender
//	caxton.receivers                   the receivers (a send to several)
//	caxton.performative                the act
//	caxton.protocol                    the interaction protocol
//	caxton.instance                    the replica (process)
//	caxton.attempt                     the attempt number, 1 for the first (process)
//
// and those set as it ends:
//
//	messaging.batch.message_count      messages in the wasm batch (process, wasm)
//	caxton.wasm.fuel_used              fuel the batch consumed (process, wasm)
//	caxton.outcome                     delivered, retry, dead_lettered, interrupted (process)
//	error.type                         why it failed (the ErrorType* values)
//
// A failed attempt — handler error, panic, trap, deadline — is recorded on
// its span as an exception with status Error and error.type; its outcome
// says whether a retry follows or the message was dead-lettered. A
// Contract Net negotiation run with cntrace.Tracer (package
// contractnet/cntrace) is one span whose calls for proposals are its
// children and whose answers are recorded as child spans linked to the
// answer's own trace. Tracers and meters carry the module's version as
// their instrumentation scope's (ScopeVersion).
//
// # Metrics
//
// Three instruments are the messaging conventions' own, with attributes
// messaging.system, messaging.operation.name, messaging.destination.name,
// caxton.performative, caxton.sender (sends) and error.type (failures);
// the others are Caxton's, with messaging.destination.name for the agent
// (and caxton.performative for the message counters). The name the
// OpenTelemetry Prometheus exporter (go.opentelemetry.io/otel/exporters/prometheus)
// gives each is on the right — the names alert rules use (the nested
// module ecosystem scrapes them through that exporter in a test, and
// examples/prometheus checks its alert rules against them). The agent is
// caxton.agent on caxton.security.denied (the sender refused), and
// messaging.destination.name on the others:
//
//	messaging.client.sent.messages      counter {message}   sends routed by the bus       messaging_client_sent_messages_total
//	messaging.client.consumed.messages  counter {message}   handling attempts             messaging_client_consumed_messages_total
//	messaging.process.duration          histogram s         one handler call (a batch)    messaging_process_duration_seconds
//	caxton.messages.retried             counter {message}   attempts scheduled again      caxton_messages_retried_total
//	caxton.messages.dead_lettered       counter {message}   moved to the dead-letter queue caxton_messages_dead_lettered_total
//	caxton.mailbox.depth                gauge {message}     queued for the agent          caxton_mailbox_depth
//	caxton.instances.live               gauge {instance}    live handler instances        caxton_instances_live
//	caxton.sandbox.memory.usage         gauge By            wasm linear memory            caxton_sandbox_memory_usage_bytes
//	caxton.sandbox.fuel.consumed        counter {fuel}      wasm fuel                     caxton_sandbox_fuel_consumed_total
//	caxton.handler.cpu_time             counter s           handler CPU (MeasureCPU)      caxton_handler_cpu_time_seconds_total
//	caxton.agent.up                     gauge               1 running, else 0 (caxton.state) caxton_agent_up
//	caxton.circuit.open                 gauge               1 while the breaker is open   caxton_circuit_open
//	caxton.instances.restarts           counter {instance}  instances replaced            caxton_instances_restarts_total
//	caxton.security.denied              counter {request}   refused by the authorizer     caxton_security_denied_total
//
// Failed attempts are messaging_client_consumed_messages_total with an
// error_type label; delivered ones have none. The duration's buckets
// (DurationBuckets) run from a microsecond to two minutes, so agents that
// wait seconds on an LLM or a tool are still measured.
//
// # Logs
//
// The runtime wraps its logger with LogHandler: a record logged with a
// context that carries a span gets trace_id and span_id. Handlers get that
// context; MessageContext.Logger adds the ids itself; guest logs (the
// caxton.log import and captured stdout/stderr) are logged with the agent's
// name and the batch's span. Lines about a message outside its handler
// (a dead letter) are logged with the message's span context, so they
// have its trace id too.
//
// Every Caxton package is silent unless given a logger (WithLogger; a nil
// logger is that same silent default), and uses one vocabulary of keys:
//
//	agent            the agent concerned
//	message_id       acl.Message.ID
//	conversation_id  acl.Message.ConversationID
//	sender           acl.Message.Sender
//	receiver         the receiver concerned
//	performative     the act
//	attempt          the attempt's number (for a dead letter, the last one's)
//	reason           why (a dead letter, a refusal)
//	error            the error
//	trace_id         and span_id, added from the context by LogHandler
package telemetry
