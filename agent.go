package caxton

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// Handler handles one message at a time. Returning nil acknowledges the
// message; returning an error (or panicking) fails the attempt, and the
// runtime retries it with backoff and finally dead-letters it, per the
// agent's DeliveryPolicy.
//
// Messages to one instance are handled in order, one at a time, so a handler
// used by a single instance needs no locking. A handler shared by several
// replicas (AgentSpec.Handler with Replicas > 1) is called concurrently.
type Handler interface {
	HandleMessage(ctx context.Context, mc *MessageContext) error
}

// HandlerFunc adapts a function to Handler, like http.HandlerFunc.
type HandlerFunc func(ctx context.Context, mc *MessageContext) error

// HandleMessage calls f.
func (f HandlerFunc) HandleMessage(ctx context.Context, mc *MessageContext) error { return f(ctx, mc) }

// BatchHandler is a Handler that can take several queued messages in one
// call. Sandboxed (WebAssembly) agents implement it, because each crossing
// into a guest is expensive: the runtime hands over a batch, and the
// messages the instance emits are collected in the batch's outbox and sent
// only if the whole batch succeeds. On error the outbox is discarded — a
// failed batch has emitted nothing — and, since it cannot be told which
// message failed it, each message of the batch is tried again on its own,
// in order, so only the guilty ones go the retry → dead-letter way.
type BatchHandler interface {
	Handler
	HandleBatch(ctx context.Context, b *Batch) error
}

// Batch is a run of queued messages for one BatchHandler call.
type Batch struct {
	// Messages are in mailbox order; read-only.
	Messages []*acl.Message
	// Attempt is the attempt number of this batch (1 for the first try).
	Attempt  int
	outbox   []*acl.Message
	rejected map[int]error
}

// Reject marks Messages[i] as one the handler refuses outright (too large
// for a sandbox, say): if the batch succeeds, that message is dead-lettered
// with err instead of counted as handled.
func (b *Batch) Reject(i int, err error) {
	if b.rejected == nil {
		b.rejected = make(map[int]error)
	}
	b.rejected[i] = err
}

// Emit queues m to be sent when the batch succeeds. The runtime stamps the
// agent's name as sender; a message claiming another sender is rejected.
func (b *Batch) Emit(m *acl.Message) { b.outbox = append(b.outbox, m) }

// Outbox returns the messages emitted so far.
func (b *Batch) Outbox() []*acl.Message { return b.outbox }

// InstanceInfo tells a factory which instance it is making.
type InstanceInfo struct {
	Agent   acl.AgentID
	Replica int // 0 .. Replicas-1
	Restart int // how many times this replica was replaced before
}

// Overflow chooses what a sender experiences when a mailbox is full.
type Overflow uint8

const (
	// Block makes Send wait until there is room or its context ends
	// (backpressure). The default.
	Block Overflow = iota
	// Reject makes Send fail at once with ErrMailboxFull.
	Reject
)

// Balance chooses the replica that gets a message.
type Balance uint8

const (
	// LeastLoaded picks the replica with the shortest queue. The default.
	LeastLoaded Balance = iota
	// RoundRobin picks replicas in turn.
	RoundRobin
)

// Backoff is an exponential backoff: Initial, then ×Multiplier per step,
// capped at Max.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
}

// Delay returns the wait before attempt n+1 after n failed attempts (n ≥ 1).
func (b Backoff) Delay(n int) time.Duration {
	d := float64(b.Initial)
	for i := 1; i < n; i++ {
		d *= b.Multiplier
		if d >= float64(b.Max) {
			return b.Max
		}
	}
	return min(time.Duration(d), b.Max)
}

// DeliveryPolicy says how often a failing message is retried.
type DeliveryPolicy struct {
	// MaxAttempts is the number of handling attempts before the message is
	// dead-lettered (default 3; 1 means no retry).
	MaxAttempts int
	// Backoff spaces the attempts (default 10ms, ×2, max 1s).
	Backoff Backoff
}

// RestartPolicy governs replacing broken instances of an agent made by a
// NewHandler factory. An instance is replaced when its handler panics or
// returns an error wrapping ErrInstanceBroken, or when the factory fails.
// More than MaxRestarts replacements within Window mark the agent Failed.
type RestartPolicy struct {
	MaxRestarts int           // default 20
	Window      time.Duration // default 1 minute
	Backoff     Backoff       // wait before making the replacement (default 10ms, ×2, max 5s)
}

// AgentSpec describes an agent to Spawn. Set exactly one of Handler,
// NewHandler and Wasm; everything else has a default.
type AgentSpec struct {
	// Name is the agent's unique id on the runtime.
	Name acl.AgentID
	// Handler is shared by all replicas.
	Handler Handler
	// NewHandler makes one handler per instance (each replica, and each
	// replacement after a crash). Use it for stateful agents.
	NewHandler func(ctx context.Context, info InstanceInfo) (Handler, error)
	// Wasm runs the agent as a sandboxed WebAssembly guest (instead of
	// Handler or NewHandler).
	Wasm *WasmSpec

	// Replicas is the number of instances (default 1). Each has its own
	// mailbox and handles its messages in order.
	Replicas int
	// Balance picks the replica for each message.
	Balance Balance
	// MailboxCapacity bounds each instance's queue (default 1024).
	MailboxCapacity int
	// Overflow is what a sender gets when the mailbox is full.
	Overflow Overflow
	// BatchSize is the most messages a BatchHandler gets per call
	// (default 64); plain Handlers get one message per call.
	BatchSize int
	// Topics the agent subscribes to from the start.
	Topics []string
	// Tools the agent may call (through the runtime's Toolbox). The zero
	// value grants none.
	Tools ToolGrant
	// Capabilities the agent advertises, the way agents register services
	// with a FIPA directory facilitator: Runtime.Capable finds agents by
	// them (a Contract Net initiator calls for proposals that way).
	Capabilities []string
	// Delivery is the retry policy for failing messages.
	Delivery DeliveryPolicy
	// Restart is the policy for replacing broken instances.
	Restart RestartPolicy
}

// State is an agent's lifecycle state.
type State uint8

// Lifecycle states.
const (
	StateRunning State = iota + 1 // workers are handling messages
	StateStopped                  // stopped by the host; messages queue up
	StateFailed                   // exceeded its restart policy
)

func (s State) String() string {
	switch s {
	case StateRunning:
		return "running"
	case StateStopped:
		return "stopped"
	case StateFailed:
		return "failed"
	}
	return "unknown"
}

// AgentInfo is a snapshot of an agent for inspection.
type AgentInfo struct {
	Name         acl.AgentID
	State        State
	Replicas     int
	QueueDepth   int      // queued messages over all replicas
	InFlight     int      // messages taken by workers and not yet finished
	Processed    uint64   // messages handled successfully
	Failed       uint64   // failed attempts (errors and panics)
	Retried      uint64   // attempts that were retried
	DeadLettered uint64   // messages sent to the dead-letter queue
	Restarts     uint64   // instances replaced
	LastError    string   // the most recent handler error
	Topics       []string // current subscriptions
	Capabilities []string // advertised capabilities (AgentSpec.Capabilities)
}

const (
	defaultMailbox     = 1024
	defaultBatch       = 64
	defaultMaxAttempts = 3
	defaultMaxRestarts = 20
)

// withDefaults validates s and fills in defaults; the error names the field.
func (s AgentSpec) withDefaults() (AgentSpec, error) {
	if err := s.Name.Validate(); err != nil {
		return s, specErr("Name", "%v", err)
	}
	if s.Name.IsTopic() {
		return s, specErr("Name", "%q is a topic address", s.Name)
	}
	set := 0
	for _, isSet := range []bool{s.Handler != nil, s.NewHandler != nil, s.Wasm != nil} {
		if isSet {
			set++
		}
	}
	if f, ok := s.Handler.(HandlerFunc); ok && f == nil {
		return s, specErr("Handler", "nil HandlerFunc")
	}
	switch {
	case set == 0:
		return s, specErr("Handler", "one of Handler, NewHandler and Wasm is required")
	case set > 1:
		return s, specErr("Handler", "set only one of Handler, NewHandler and Wasm")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"Replicas", s.Replicas}, {"MailboxCapacity", s.MailboxCapacity}, {"BatchSize", s.BatchSize}} {
		if f.v < 0 {
			return s, specErr(f.name, "%d is negative", f.v)
		}
	}
	s.Replicas = cmp.Or(s.Replicas, 1)
	s.MailboxCapacity = cmp.Or(s.MailboxCapacity, defaultMailbox)
	s.BatchSize = cmp.Or(s.BatchSize, defaultBatch)
	if s.Overflow > Reject {
		return s, specErr("Overflow", "unknown value %d", s.Overflow)
	}
	if s.Balance > RoundRobin {
		return s, specErr("Balance", "unknown value %d", s.Balance)
	}
	for _, t := range s.Topics {
		if err := acl.Topic(t).Validate(); err != nil {
			return s, specErr("Topics", "%v", err)
		}
	}
	for _, c := range s.Capabilities {
		if err := acl.AgentID(c).Validate(); err != nil {
			return s, specErr("Capabilities", "capability %q: %v", c, err)
		}
	}
	s.Capabilities = slices.Clone(s.Capabilities)
	tools, err := s.Tools.withDefaults()
	if err != nil {
		return s, err
	}
	s.Tools = tools
	s.Tools.Allow = slices.Clone(s.Tools.Allow)
	if s.Delivery.MaxAttempts < 0 {
		return s, specErr("Delivery.MaxAttempts", "must not be negative")
	}
	s.Delivery.MaxAttempts = cmp.Or(s.Delivery.MaxAttempts, defaultMaxAttempts)
	if s.Delivery.Backoff, err = s.Delivery.Backoff.withDefaults("Delivery.Backoff", 10*time.Millisecond, time.Second); err != nil {
		return s, err
	}
	if s.Restart.MaxRestarts < 0 {
		return s, specErr("Restart.MaxRestarts", "%d is negative", s.Restart.MaxRestarts)
	}
	if s.Restart.Window < 0 {
		return s, specErr("Restart.Window", "%v is negative", s.Restart.Window)
	}
	s.Restart.MaxRestarts = cmp.Or(s.Restart.MaxRestarts, defaultMaxRestarts)
	s.Restart.Window = cmp.Or(s.Restart.Window, time.Minute)
	if s.Restart.Backoff, err = s.Restart.Backoff.withDefaults("Restart.Backoff", 10*time.Millisecond, 5*time.Second); err != nil {
		return s, err
	}
	return s, nil
}

func (b Backoff) withDefaults(field string, initial, maxDelay time.Duration) (Backoff, error) {
	switch {
	case b.Initial < 0:
		return b, specErr(field+".Initial", "%v is negative", b.Initial)
	case b.Max < 0:
		return b, specErr(field+".Max", "%v is negative", b.Max)
	case b.Multiplier < 0:
		return b, specErr(field+".Multiplier", "%v is negative", b.Multiplier)
	}
	if b.Multiplier != 0 && b.Multiplier < 1 {
		return b, specErr(field+".Multiplier", "%v is below 1", b.Multiplier)
	}
	b.Initial = cmp.Or(b.Initial, initial)
	b.Max = cmp.Or(b.Max, max(maxDelay, b.Initial))
	if b.Max < b.Initial {
		return b, specErr(field+".Max", "%v is below Initial %v", b.Max, b.Initial)
	}
	b.Multiplier = cmp.Or(b.Multiplier, 2)
	return b, nil
}
