package caxton

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/caxton-go/caxton/tool"
)

// AgentSpec describes an agent to Spawn. Set exactly one of Handler,
// NewHandler and Wasm; everything else has a default.
type AgentSpec struct {
	// Name is the agent's unique id on the runtime.
	Name acl.AgentID
	// Version labels the agent's code (default "v1", then "v2", ... for
	// each Upgrade): AgentInfo, lifecycle events and InstanceInfo show it.
	Version string
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
	// Tools the agent may call (through the runtime's tool.Toolbox, see
	// WithToolbox), how often, how long and how large. The zero value
	// grants none; zero limits take tool.DefaultTimeout and
	// tool.DefaultMaxResult.
	Tools tool.Grant
	// Capabilities the agent advertises, the way agents register services
	// with a FIPA directory facilitator: Runtime.Capable finds agents by
	// them (a Contract Net initiator calls for proposals that way).
	Capabilities []string
	// Delivery is the retry policy for failing messages.
	Delivery DeliveryPolicy
	// Restart is the policy for replacing broken instances.
	Restart RestartPolicy
	// Scale bounds the instances (Runtime.Scale) and can scale them on load.
	Scale ScalePolicy
	// Breaker, if Failures is set, stops deliveries to an agent that keeps
	// failing for a cool-down.
	Breaker BreakerPolicy
	// Roles name the agent to the authorizer (WithAuthorizer): a policy
	// grants roles what they may send to whom and subscribe to.
	Roles []string
	// Quota limits what the agent may send (rate, bytes, outbox per batch).
	Quota Quota
	// MeasureCPU accounts the CPU time the agent's handler calls use
	// (AgentInfo.CPUTime and the caxton.handler.cpu_time metric), so a
	// native handler's cost can be attributed as a wasm guest's fuel is.
	// Go cannot tell a goroutine's CPU time, so the agent's worker keeps
	// its OS thread while it runs and reads the thread's CPU clock around
	// each batch of messages it takes (Linux only; Spawn refuses it
	// elsewhere). The clock is a system call (~4 µs on a loaded VM), paid
	// per batch rather than per message, and a handler that blocks pays a
	// thread hand-off when it wakes, so it is off by default. The time
	// includes the worker's own work on the batch (acknowledgements).
	MeasureCPU bool
	// Lazy defers making the agent's handlers (a wasm guest's instances)
	// until an instance's first message, so agents declared in thousands
	// cost nothing until used. Spawn still compiles a wasm module.
	Lazy bool
}

// WasmSpec makes an agent a WebAssembly guest (Guest ABI v1, see
// sandbox/ABI.md). Set it in AgentSpec.Wasm instead of a handler: every
// replica, and every replacement after a crash, is a fresh instance in its
// own store. Set exactly one of Module, WAT, File, JavaScript and Python.
//
// Text is compiled only when asked for (WAT, or a File named *.wat), so
// bytes that are not a module are reported as such, not as a syntax error.
// A module that cannot be used fails Spawn with a *sandbox.Error naming the
// agent: KindInvalidModule for bytes that are not a valid module,
// KindABIViolation for a module that breaks the ABI.
//
// JavaScript agents are scripts, deployed like modules: the runtime runs
// each in an interpreter guest inside the sandbox (QuickJS, package
// guest/js, given to the runtime with WithJavaScript) with the same limits,
// grants and tools as any guest, the script handed to each instance at
// start-up. A script that does not load fails Spawn with a *sandbox.Error
// of KindInitFailed carrying the interpreter's message.
//
// Python agents are scripts too, run the same way by the Python engine
// guest (MicroPython's core built for WASI: package guest/python, whose
// README says exactly which language subset agents get; given to the
// runtime with WithPython); a script that does not load
// fails Spawn with a *sandbox.Error of KindInitFailed carrying the
// interpreter's message and traceback.
type WasmSpec struct {
	Module []byte // the guest in the binary format (a .wasm file's contents)
	WAT    string // or the guest in the WebAssembly text format
	// File is a path to the guest: WebAssembly text if the name ends in
	// .wat, a JavaScript agent if .js (a script, not an ES module), a
	// Python agent if .py, the binary format otherwise.
	File string
	// JavaScript is the agent as a script defining handle(msg, ctx)
	// (guest/js/README.md).
	JavaScript string
	// Python is the agent as a script defining handle(msg, ctx)
	// (guest/python/README.md).
	Python string
	Limits sandbox.Limits // resource limits per instance (zero fields: defaults)
	Grants sandbox.Grants // WASI capabilities (zero: none)
	// Reload, for development, polls File this often on the runtime's
	// clock and upgrades the agent (blue-green) whenever its contents
	// change; a change that does not compile or start is rolled back and
	// reported (EventUpgradeRolledBack). Zero: no reloading. Replace the
	// file by renaming a finished one into place: a reader can see a file
	// that is written in place half-written, which is then reported as a
	// failed reload before the finished contents are taken.
	Reload time.Duration
	// Hibernate, when positive, saves an instance's state and frees its
	// store once it has had no message for this long (on the runtime's
	// clock), and restores it when the next message arrives: an agent
	// that is mostly idle then costs the memory its state differs from
	// the module's image after start-up (often a few KiB) instead of a
	// live store. The state is the guest's memory and globals
	// (sandbox.Snapshot); start-up does not run again. Spawn refuses a
	// module that cannot be snapshotted (sandbox.Module.Snapshottable says
	// why). EventHibernated and EventWoke report each change; a state
	// that cannot be restored is lost and the instance replaced
	// (EventRestarted), which is logged at error level.
	Hibernate time.Duration
	// Preinit starts every instance from the module's state after its
	// start-up instead of running start-up again: the first Spawn runs
	// start-up once (_initialize, and for a script agent the interpreter's
	// set-up and the script) and bakes its memory and globals into a new
	// module (sandbox.Engine.Preinitialize), cached like any compiled
	// module — a Go guest then starts in tens of microseconds instead of
	// ~2 ms. What start-up read from the clock or random numbers is frozen
	// into that state and shared by the instances. Spawn refuses a module
	// that cannot be baked, saying why (Wasm.Preinit).
	Preinit bool
}

// Overflow chooses what a sender experiences when a mailbox is full.
type Overflow uint8

const (
	// OverflowBlock makes Send wait until there is room or its context
	// ends (backpressure). The default.
	OverflowBlock Overflow = iota
	// OverflowReject makes Send fail at once with ErrMailboxFull.
	OverflowReject
)

// Balance chooses the replica that gets a message.
type Balance uint8

const (
	// BalanceLeastLoaded picks the replica with the shortest queue. The
	// default.
	BalanceLeastLoaded Balance = iota
	// BalanceRoundRobin picks replicas in turn.
	BalanceRoundRobin
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
	// Timeout, if set, bounds each handling attempt on the runtime's clock.
	// A handler that overruns it is hung: its context is cancelled, the
	// instance is replaced (for NewHandler and wasm agents; the hung handler
	// is closed when it finally returns), EventHung is reported and the
	// message is retried. Each attempt then runs on a goroutine of its own,
	// which costs about a microsecond: set it for handlers that call out.
	Timeout time.Duration
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
	if s.Overflow > OverflowReject {
		return s, specErr("Overflow", "unknown value %d", s.Overflow)
	}
	if s.Balance > BalanceRoundRobin {
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
	if err := grantErr(s.Tools.Validate()); err != nil {
		return s, err
	}
	s.Tools = s.Tools.WithDefaults()
	s.Tools.Allow = slices.Clone(s.Tools.Allow)
	if s.Delivery.MaxAttempts < 0 {
		return s, specErr("Delivery.MaxAttempts", "must not be negative")
	}
	s.Delivery.MaxAttempts = cmp.Or(s.Delivery.MaxAttempts, defaultMaxAttempts)
	if s.Delivery.Timeout < 0 {
		return s, specErr("Delivery.Timeout", "%v is negative", s.Delivery.Timeout)
	}
	var err error
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
	if err := s.Scale.validate(s.Replicas); err != nil {
		return s, err
	}
	if s.Breaker, err = s.Breaker.withDefaults(); err != nil {
		return s, err
	}
	if s.MeasureCPU && !cpuClockWorks {
		return s, specErr("MeasureCPU", "thread CPU clocks are not supported on this platform")
	}
	if s.Quota, err = s.Quota.withDefaults(); err != nil {
		return s, err
	}
	for _, r := range s.Roles {
		if err := acl.AgentID(r).Validate(); err != nil {
			return s, specErr("Roles", "role %q: %v", r, err)
		}
	}
	s.Roles = slices.Clone(s.Roles)
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

// grantErr reports a tool.Grant's validation error as a *SpecError under
// AgentSpec.Tools ("Tools.Rate", ...).
func grantErr(err error) error {
	if err == nil {
		return nil
	}
	var ge *tool.GrantError
	if errors.As(err, &ge) {
		return specErr("Tools."+ge.Field, "%s", ge.Reason)
	}
	return specErr("Tools", "%v", err)
}
