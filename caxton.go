// Package caxton hosts agents inside a Go process. Agents are native Go
// handlers (or, through the sandbox package, WebAssembly modules); they talk
// in FIPA ACL messages (package acl) over one reliable in-process bus.
//
// # The tour
//
// Create a runtime, spawn agents, talk to them, close:
//
//	rt, err := caxton.New()
//	defer rt.Close(ctx)
//
//	rt.Spawn(ctx, caxton.AgentSpec{
//		Name: "echo",
//		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
//			return mc.Reply(ctx, acl.Inform, mc.Message().Content)
//		}),
//	})
//	reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request,
//		Receivers: []acl.AgentID{"echo"}, Content: []byte("hi")})
//
// # One path for a message
//
// Every message — from host code, from an agent, a retry, a replayed dead
// letter — takes the same path: Send validates it (acl.Validator, naming the
// bad field), stamps id, time and sender, hands replies to waiting Requests,
// resolves receivers (agents, topic subscribers via acl.Topic, content
// rules), and queues one envelope per receiver in a bounded, priority-ordered
// mailbox per agent instance. Each instance has one worker, so its messages
// are handled in order. A handler's error or panic is retried with
// exponential backoff (the agent's DeliveryPolicy, timed by the runtime's
// clock) and finally dead-lettered with the reason, attempts and last error.
// An unknown receiver is an error to the sender, and a FIPA failure notice
// when the sender is an agent. Nothing is dropped silently.
//
// # Seams
//
// Mailboxes sit on a store.Store: in memory by default; WithStore with the
// embedded store of package store/durable makes them durable across
// restarts, at-least-once. Agents made by AgentSpec.NewHandler get one handler per
// instance and are supervised: a panicking or broken instance is replaced
// under the RestartPolicy. A handler that implements BatchHandler receives
// runs of messages and an outbox, which is how sandboxed agents keep host ↔
// guest crossings few. All timing goes through a clock.Clock, so tests use
// clock.Fake (see package caxtontest) instead of sleeping.
//
// # Around the bus
//
// Conversations: package protocol gives typed initiators and responders for
// the FIPA request, query, subscribe and propose protocols, and package
// contractnet the Contract Net (calls for proposals, deadlines, selection,
// iteration, cancel); ProtocolHandler makes a responder an agent's Handler,
// and the same responder runs inside a wasm guest. Agents advertise
// Capabilities, which Capable resolves.
//
// Observability: WithTracerProvider and WithMeterProvider turn every send
// and handling attempt into OpenTelemetry spans linked across agents by the
// trace context each message carries, plus metrics; logs get trace ids
// (package telemetry lists the names). Without providers none of it costs
// anything.
//
// Tools: an agent reaches the outside world only through tools its
// AgentSpec.Tools grant (a tool.Grant; the zero grant allows nothing)
// allows, called with MessageContext.CallTool (or the caxton.tool_call
// import from wasm) through the tool.Toolbox given to WithToolbox — an
// mcp.Registry of host tools and tools imported from MCP servers. Every
// outcome, a denial included, is a tool.Result the agent handles. Package
// tool holds that vocabulary so the sandbox, the guest SDK and toolboxes
// share it without importing the runtime; package mcp/mcpserver goes the
// other way and serves a runtime to MCP clients.
//
// Performance figures, with the commands that measure them, are in
// BENCHMARKS.md.
package caxton

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/clock"
	"github.com/caxton-go/caxton/internal/otelrt"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/telemetry"
)

// Runtime hosts agents. It is safe for concurrent use. Two runtimes in one
// process share nothing.
type Runtime struct {
	clock     clock.Clock
	stamps    *stampClock // the clock's time for message stamps (stamp.go)
	logger    *slog.Logger
	store     store.Store
	dlq       store.DeadLetterQueue
	ids       *acl.IDGenerator
	validator acl.Validator
	cfg       *config

	shutdown shutdown   // Close's state: closed, host calls, workers, base context
	workers  workerPool // parked worker goroutines (workerpool.go)
	events   events     // lifecycle events: the hook and the watchers
	logs     logBook    // each agent's recent log records
	audit    auditLog   // security records, chained

	// registry: agents, inboxes and internal subscribers by name
	regMu     sync.RWMutex
	endpoints map[acl.AgentID]endpoint
	subSeq    atomic.Uint64

	bus   routing
	reqs  requests
	inbox *Inbox // the default host inbox

	sbMu sync.Mutex
	sb   *sandbox.Engine // created by the first wasm agent
	hib  hibernator      // idle wasm instances to hibernate (WasmSpec.Hibernate)

	tel *otelrt.Telemetry // nil without providers: telemetry off

	offline map[acl.AgentID]*offline // durable queues of agents not spawned (under regMu)
}

// New returns a running runtime configured by opts.
func New(opts ...Option) (*Runtime, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	rt := &Runtime{
		clock:  cfg.clock,
		stamps: newStampClock(cfg.clock),

		store:     cfg.store,
		dlq:       cfg.store.DeadLetters(),
		ids:       acl.NewIDGenerator(),
		validator: acl.Validator{MaxContentSize: cfg.maxContent, Now: cfg.clock.Now, SkipReceiverNames: true},
		cfg:       cfg,
		endpoints: make(map[acl.AgentID]endpoint),
	}
	rt.shutdown.init()
	rt.workers.init()
	rt.events.init(cfg.onEvent)
	rt.audit.init(cfg.auditBuffer, cfg.onAudit)
	rt.logs.init(cfg.logBuffer, cfg.logLevel, cfg.clock.Now)
	rt.logger = slog.New(&bookHandler{book: &rt.logs, next: telemetry.LogHandler(cfg.logger.Handler())})
	if cfg.auditSink != nil {
		if err := rt.audit.attachSink(cfg.auditSink, func(err error) { rt.logger.Error(err.Error()) }); err != nil {
			rt.shutdown.cancel()
			return nil, err
		}
	}
	rt.bus.init()
	rt.reqs.init(cfg.lateRetention, cfg.onLateReply, cfg.clock.Now)
	rt.loadOffline()
	if err := rt.setupTelemetry(); err != nil {
		rt.shutdown.cancel()
		return nil, err
	}
	rt.inbox, err = rt.NewInbox(cfg.hostName)
	if err != nil {
		rt.shutdown.cancel()
		return nil, err
	}
	if err := rt.attachCluster(); err != nil {
		rt.shutdown.cancel()
		return nil, err
	}
	if cfg.healthEvery > 0 {
		go rt.probeHealth(rt.shutdown.base, cfg.healthEvery)
	}
	return rt, nil
}

// Clock returns the runtime's time source.
func (rt *Runtime) Clock() clock.Clock { return rt.clock }

// Logger returns the runtime's logger.
func (rt *Runtime) Logger() *slog.Logger { return rt.logger }
