package telemetry

import "go.opentelemetry.io/otel/attribute"

// ScopeName is the instrumentation scope of Caxton's tracer and meter (its
// version is ScopeVersion).
const ScopeName = "github.com/caxton-go/caxton"

// Standard attribute keys: OpenTelemetry's messaging semantic conventions
// (v1.44) and error.type. The runtime sets them when a span starts, so
// samplers see them.
const (
	KeyMessagingSystem    = attribute.Key("messaging.system")                  // "caxton"
	KeyMessagingOperation = attribute.Key("messaging.operation.type")          // "send" or "process"
	KeyOperationName      = attribute.Key("messaging.operation.name")          // "send" or "process"
	KeyDestination        = attribute.Key("messaging.destination.name")        // the receiving agent (or topic)
	KeyMessageID          = attribute.Key("messaging.message.id")              // acl.Message.ID
	KeyConversationID     = attribute.Key("messaging.message.conversation_id") // acl.Message.ConversationID
	KeyBatchSize          = attribute.Key("messaging.batch.message_count")     // messages in a wasm batch
	KeyErrorType          = attribute.Key("error.type")                        // why an operation failed; see ErrorType
)

// Caxton's own attribute keys, for what the conventions have no key for.
const (
	KeyAgent        = attribute.Key("caxton.agent")          // the agent acting (a tool call's caller); a handling agent is KeyDestination
	KeyInstance     = attribute.Key("caxton.instance")       // the replica handling the message
	KeySender       = attribute.Key("caxton.sender")         // acl.Message.Sender
	KeyReceivers    = attribute.Key("caxton.receivers")      // acl.Message.Receivers, when more than one
	KeyPerformative = attribute.Key("caxton.performative")   // the FIPA act
	KeyProtocol     = attribute.Key("caxton.protocol")       // the interaction protocol
	KeyAttempt      = attribute.Key("caxton.attempt")        // 1 for the first attempt
	KeyFuelUsed     = attribute.Key("caxton.wasm.fuel_used") // fuel a wasm batch consumed
	KeyOutcome      = attribute.Key("caxton.outcome")        // delivered, retry, dead_lettered, interrupted
	KeyReason       = attribute.Key("caxton.reason")         // why a message was dead-lettered
	KeyState        = attribute.Key("caxton.state")          // an agent's lifecycle state (MetricUp)
	KeyAction       = attribute.Key("caxton.action")         // what a denied request was (MetricDenied)
)

// Values of KeyErrorType the runtime records (anything else is "_OTHER").
const (
	ErrorTypeTimeout        = "timeout"         // a deadline passed (context.DeadlineExceeded, a wasm batch deadline)
	ErrorTypeCanceled       = "canceled"        // the context was canceled
	ErrorTypePanic          = "panic"           // a native handler panicked
	ErrorTypePermanent      = "permanent"       // the handler said not to retry (caxton.Permanent)
	ErrorTypeInstanceBroken = "instance_broken" // the instance was replaced (caxton.ErrInstanceBroken)
	ErrorTypeWasmTrap       = "wasm_trap"       // a guest trapped (out of fuel, memory, unreachable, ...)
	ErrorTypeWasmABI        = "wasm_abi"        // a guest broke Guest ABI v1
	ErrorTypeGuestFailed    = "guest_failed"    // a guest reported a failure status
	ErrorTypeAgentNotFound  = "agent_not_found" // a send to an unknown agent
	ErrorTypeMailboxFull    = "mailbox_full"    // a send refused by a full mailbox
	ErrorTypeNoSubscribers  = "no_subscribers"  // a send to a topic nobody subscribes to
	ErrorTypeInvalidMessage = "invalid_message" // a send of a malformed message
	ErrorTypeClosed         = "closed"          // the runtime was closing
	ErrorTypeOther          = "_OTHER"          // none of the above
)

// Instrument names. Three follow OpenTelemetry's messaging conventions
// (their attributes: messaging.system, messaging.operation.name,
// messaging.destination.name, caxton.performative, and error.type on
// failures); the others are Caxton's own. The doc comment of the package
// maps each to the name the OpenTelemetry Prometheus exporter gives it.
const (
	MetricSent         = "messaging.client.sent.messages"     // counter {message}: sends routed by the bus
	MetricConsumed     = "messaging.client.consumed.messages" // counter {message}: handling attempts; error.type when failed
	MetricDuration     = "messaging.process.duration"         // histogram s: one handler call (a batch for wasm)
	MetricRetried      = "caxton.messages.retried"            // counter {message}: attempts scheduled again
	MetricDeadLettered = "caxton.messages.dead_lettered"      // counter {message}: to the dead-letter queue
	MetricDepth        = "caxton.mailbox.depth"               // gauge {message}: queued, per agent
	MetricInstances    = "caxton.instances.live"              // gauge {instance}: live handler instances, per agent
	MetricMemory       = "caxton.sandbox.memory.usage"        // gauge By: wasm linear memory, per agent
	MetricFuel         = "caxton.sandbox.fuel.consumed"       // counter {fuel}: wasm fuel, per agent
	MetricCPUTime      = "caxton.handler.cpu_time"            // counter s: CPU time of handler calls, per agent (AgentSpec.MeasureCPU)
	MetricUp           = "caxton.agent.up"                    // gauge: 1 running, 0 stopped or failed, per agent and caxton.state
	MetricCircuitOpen  = "caxton.circuit.open"                // gauge: 1 while the agent's breaker is open
	MetricRestarts     = "caxton.instances.restarts"          // counter {instance}: instances replaced, per agent
	MetricDenied       = "caxton.security.denied"             // counter {request}: sends and subscriptions refused, per subject and caxton.action
)

// DurationBuckets are the bucket boundaries (seconds) of MetricDuration:
// from a microsecond (a native handler) to two minutes (an agent waiting
// on an LLM or a slow tool), so no ordinary handler lands in +Inf.
var DurationBuckets = []float64{1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

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
