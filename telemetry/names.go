package telemetry

import "go.opentelemetry.io/otel/attribute"

// ScopeName is the instrumentation scope of Caxton's tracer and meter.
const ScopeName = "github.com/caxton-go/caxton"

// Attribute keys on spans and metrics.
const (
	KeyAgent              = attribute.Key("caxton.agent")
	KeyInstance           = attribute.Key("caxton.instance")
	KeySender             = attribute.Key("caxton.sender")
	KeyReceivers          = attribute.Key("caxton.receivers")
	KeyPerformative       = attribute.Key("caxton.performative")
	KeyProtocol           = attribute.Key("caxton.protocol")
	KeyConversationID     = attribute.Key("caxton.conversation_id")
	KeyMessageID          = attribute.Key("caxton.message_id")
	KeyAttempt            = attribute.Key("caxton.attempt")
	KeyBatchSize          = attribute.Key("caxton.wasm.batch_size")
	KeyFuelUsed           = attribute.Key("caxton.wasm.fuel_used")
	KeyOutcome            = attribute.Key("caxton.outcome")
	KeyReason             = attribute.Key("caxton.reason")
	KeyState              = attribute.Key("caxton.state")
	KeyAction             = attribute.Key("caxton.action")
	KeyMessagingSystem    = attribute.Key("messaging.system")
	KeyMessagingOperation = attribute.Key("messaging.operation.type")
)

// Instrument names (OpenTelemetry semantic-convention style).
const (
	MetricSent         = "caxton.messages.sent"          // counter {message}: routed by Send
	MetricDelivered    = "caxton.messages.delivered"     // counter {message}: handled successfully
	MetricFailed       = "caxton.messages.failed"        // counter {attempt}: handler errors, panics, traps
	MetricRetried      = "caxton.messages.retried"       // counter {message}: attempts scheduled again
	MetricDeadLettered = "caxton.messages.dead_lettered" // counter {message}: to the dead-letter queue
	MetricDuration     = "caxton.handler.duration"       // histogram s: one handler call (a batch for wasm)
	MetricDepth        = "caxton.mailbox.depth"          // gauge {message}: queued, per agent
	MetricInstances    = "caxton.instances.live"         // gauge {instance}: live handler instances, per agent
	MetricMemory       = "caxton.sandbox.memory.usage"   // gauge By: wasm linear memory, per agent
	MetricFuel         = "caxton.sandbox.fuel.consumed"  // counter {fuel}: wasm fuel, per agent
	MetricUp           = "caxton.agent.up"               // gauge: 1 running, 0 stopped or failed, per agent and caxton.state
	MetricCircuitOpen  = "caxton.circuit.open"           // gauge: 1 while the agent's breaker is open
	MetricRestarts     = "caxton.instances.restarts"     // counter {instance}: instances replaced, per agent
	MetricDenied       = "caxton.security.denied"        // counter {request}: sends and subscriptions refused, per subject and caxton.action
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
