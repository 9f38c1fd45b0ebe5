package caxton

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/clock"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/telemetry"
	"github.com/caxton-go/caxton/tool"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Option configures a Runtime in New.
type Option func(*config) error

type config struct {
	clock         clock.Clock
	logger        *slog.Logger
	store         store.Store
	maxContent    int
	hostName      acl.AgentID
	systemName    acl.AgentID
	inboxCapacity int
	sandboxOpts   []sandbox.EngineOption
	engines       scriptEngines
	onDeadLetter  func(DeadLetter)
	onLateReply   func(LateReply)
	onEvent       func(Event)
	logBuffer     int
	logLevel      slog.Level
	lateRetention int
	healthEvery   time.Duration
	authorizer    Authorizer
	onAudit       func(AuditRecord)
	auditBuffer   int
	auditSink     AuditSink
	maxAgents     int
	maxInstances  int

	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     telemetry.Propagator
	toolbox        tool.Toolbox
	cluster        Cluster
}

// WithClock sets the time source (default: the wall clock). Tests pass a
// *clock.Fake to drive retries and deadlines by hand.
func WithClock(c clock.Clock) Option {
	return func(cfg *config) error {
		if c == nil {
			return specErr("WithClock", "nil clock")
		}
		cfg.clock = c
		return nil
	}
}

// WithLogger sets the logger for the runtime and, with an "agent" attribute,
// for every handler and wasm guest. Records logged with a context that
// carries a span get trace_id and span_id attributes. Default, and what a
// nil l means (as in every Caxton package): discard — a library is silent
// unless given a logger.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		cfg.logger = l
		return nil
	}
}

// WithStore sets the message store under the mailboxes (default:
// store.NewMemory()). The runtime closes it on Close.
//
// A durable store — package store/durable, which a host imports only when
// it wants durability — makes delivery at-least-once across restarts:
//
//		st, err := durable.Open("/var/lib/myservice/caxton")
//		if err != nil { ... }
//		rt, err := caxton.New(caxton.WithStore(st))
//
//	  - a Send that returns nil has the message on disk (fsync'd; concurrent
//	    sends share one sync);
//	  - a message leaves the disk only after its handler returned nil, or when
//	    it is dead-lettered;
//	  - after a crash or a Close, every message not yet handled is delivered
//	    again when its agent is spawned — possibly a second time, so handlers
//	    that must not repeat work de-duplicate by Message().ID;
//	  - retry counts and backoff times, and dead letters, survive restarts;
//	  - a message for an agent that had a queue in an earlier run (it was
//	    spawned then and not removed) but is not spawned yet is accepted and
//	    waits for it; a name that never had a queue is unknown, as in memory;
//	  - an agent that failed (its restart policy gave up) keeps its queued
//	    messages and accepts new ones until the host starts it again, where
//	    an in-memory runtime would dead-letter them.
//
// Give the durable store the runtime's clock (durable.WithClock) when the
// runtime runs on a fake one, so history timestamps agree.
func WithStore(s store.Store) Option {
	return func(cfg *config) error {
		if s == nil {
			return specErr("WithStore", "nil store")
		}
		cfg.store = s
		return nil
	}
}

// WithMaxContentSize sets the largest message content Send accepts, in
// bytes (default acl.DefaultMaxContentSize; negative = unlimited).
func WithMaxContentSize(n int) Option {
	return func(cfg *config) error {
		if n == 0 {
			return specErr("WithMaxContentSize", "0 would reject every message with content; use a negative value for no limit")
		}
		cfg.maxContent = n
		return nil
	}
}

// WithHostName sets the name of the runtime's default host inbox: the
// sender stamped on messages the host sends without one, and where replies
// to them go (default "host").
func WithHostName(name acl.AgentID) Option {
	return func(cfg *config) error {
		if err := name.Validate(); err != nil {
			return specErr("WithHostName", "%v", err)
		}
		cfg.hostName = name
		return nil
	}
}

// WithSystemName sets the sender of the runtime's own notices, such as the
// FIPA failure an agent receives when it sends to an unknown agent (default
// "caxton"). No agent can take this name.
func WithSystemName(name acl.AgentID) Option {
	return func(cfg *config) error {
		if err := name.Validate(); err != nil {
			return specErr("WithSystemName", "%v", err)
		}
		cfg.systemName = name
		return nil
	}
}

// WithInboxCapacity bounds each host inbox (default 1024). A full inbox
// rejects further messages with ErrMailboxFull.
func WithInboxCapacity(n int) Option {
	return func(cfg *config) error {
		if n <= 0 {
			return specErr("WithInboxCapacity", "%d is not positive", n)
		}
		cfg.inboxCapacity = n
		return nil
	}
}

// WithDeadLetterHook calls fn with every message that enters the
// dead-letter queue, right after it is stored, so a host can alert or count
// without polling DeadLetters. fn runs on the worker that gave up on the
// message: it must be quick and must not block (hand off to a channel or
// goroutine for slow work).
func WithDeadLetterHook(fn func(DeadLetter)) Option {
	return func(cfg *config) error {
		if fn == nil {
			return specErr("WithDeadLetterHook", "nil function")
		}
		cfg.onDeadLetter = fn
		return nil
	}
}

// WithLateReplyHook calls fn with every reply that arrives after its
// Request gave up (see LateReply), on the responder's goroutine as it sends:
// fn must be quick and must not block.
func WithLateReplyHook(fn func(LateReply)) Option {
	return func(cfg *config) error {
		if fn == nil {
			return specErr("WithLateReplyHook", "nil function")
		}
		cfg.onLateReply = fn
		return nil
	}
}

// WithLateReplies sets how many given-up Requests the runtime remembers, so
// their late replies are recognised, and how many late replies
// LateReplies keeps (default 1024 each). 0 turns the record off: late
// replies are then delivered to the requester like any message.
func WithLateReplies(n int) Option {
	return func(cfg *config) error {
		if n < 0 {
			return specErr("WithLateReplies", "%d is negative", n)
		}
		cfg.lateRetention = n
		return nil
	}
}

func newConfig(opts []Option) (*config, error) {
	cfg := &config{
		clock:         clock.Real(),
		logger:        slog.New(slog.DiscardHandler),
		maxContent:    acl.DefaultMaxContentSize,
		hostName:      "host",
		systemName:    "caxton",
		inboxCapacity: defaultMailbox,
		lateRetention: defaultLateRetention,
		logBuffer:     DefaultLogBuffer,
		auditBuffer:   DefaultAuditBuffer,
		logLevel:      DefaultLogLevel,
	}
	for i, o := range opts {
		if o == nil {
			return nil, specErr(fmt.Sprintf("options[%d]", i), "nil option")
		}
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.hostName == cfg.systemName {
		return nil, specErr("WithHostName", "host and system names are both %q", cfg.hostName)
	}
	if cfg.store == nil {
		cfg.store = store.NewMemory()
	}
	return cfg, nil
}
