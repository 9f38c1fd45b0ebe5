// Package otelrt is the runtime's OpenTelemetry plumbing: the tracer, the
// instruments and the spans of sends and handling attempts. The names it
// records (span names, attribute keys, metric names) are public, in package
// telemetry; this package is how the runtime records them, and is not API.
package otelrt

import (
	"context"
	"sync"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Config is what New builds a Telemetry from; nil fields take defaults.
type Config struct {
	Tracer     trace.TracerProvider // nil: noop
	Meter      metric.MeterProvider // nil: noop
	Propagator telemetry.Propagator // nil: telemetry.DefaultPropagator()
	// ErrorType names an error for the error.type attribute (nil: every
	// error is telemetry.ErrorTypeOther, context errors excepted).
	ErrorType func(error) string
}

// Telemetry holds a runtime's tracer, propagator and instruments. A nil
// *Telemetry is valid and does nothing, which is how a runtime without
// providers pays nothing for telemetry on its hot path.
type Telemetry struct {
	tracer    trace.Tracer
	meter     metric.Meter
	prop      telemetry.Propagator
	errorType func(error) string
	tracing   bool // false for the noop tracer: span attributes are not built

	sent, consumed, retried, deadLettered, fuel, denied metric.Int64Counter
	duration                                            metric.Float64Histogram
	cpu                                                 metric.Float64Counter

	sets  sync.Map // attrKey → *attrSet (cached, so measuring allocates nothing)
	names sync.Map // acl.AgentID → *spanNames
	reg   metric.Registration
}

// attrSet holds ready-made option slices for one attribute set: passing a
// fresh variadic slice per measurement would allocate.
type attrSet struct {
	add []metric.AddOption
	rec []metric.RecordOption
	obs metric.ObserveOption
}

// op is the messaging operation a metric attribute set describes.
type op uint8

const (
	opAgent   op = iota // per agent only (gauges, fuel)
	opSend              // messaging.operation.name=send
	opProcess           // messaging.operation.name=process
)

type attrKey struct {
	op      op
	sender  acl.AgentID // opSend
	dest    acl.AgentID
	perf    acl.Performative
	errType string
}

// New creates the tracer and instruments.
func New(cfg Config) (*Telemetry, error) {
	tp, mp := cfg.Tracer, cfg.Meter
	tracing := true
	switch tp.(type) {
	case nil, tracenoop.TracerProvider, *tracenoop.TracerProvider:
		tp, tracing = tracenoop.NewTracerProvider(), false
	}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	t := &Telemetry{
		tracer:    tp.Tracer(telemetry.ScopeName, trace.WithInstrumentationVersion(telemetry.ScopeVersion())),
		meter:     mp.Meter(telemetry.ScopeName, metric.WithInstrumentationVersion(telemetry.ScopeVersion())),
		prop:      cfg.Propagator,
		errorType: cfg.ErrorType,
		tracing:   tracing,
	}
	if t.prop == nil {
		t.prop = telemetry.DefaultPropagator()
	}
	if t.errorType == nil {
		t.errorType = func(error) string { return telemetry.ErrorTypeOther }
	}
	var err error
	counter := func(name, unit, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = t.meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		return c
	}
	t.sent = counter(telemetry.MetricSent, "{message}", "Messages routed by the bus")
	t.consumed = counter(telemetry.MetricConsumed, "{message}", "Handling attempts; error.type is set on failed ones")
	t.retried = counter(telemetry.MetricRetried, "{message}", "Messages scheduled for another attempt")
	t.deadLettered = counter(telemetry.MetricDeadLettered, "{message}", "Messages moved to the dead-letter queue")
	t.fuel = counter(telemetry.MetricFuel, "{fuel}", "WebAssembly fuel consumed")
	t.denied = counter(telemetry.MetricDenied, "{request}", "Sends and subscriptions the authorizer refused")
	if err != nil {
		return nil, err
	}
	t.duration, err = t.meter.Float64Histogram(telemetry.MetricDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of one handler call (one batch for wasm agents)"),
		metric.WithExplicitBucketBoundaries(telemetry.DurationBuckets...))
	if err != nil {
		return nil, err
	}
	t.cpu, err = t.meter.Float64Counter(telemetry.MetricCPUTime, metric.WithUnit("s"),
		metric.WithDescription("CPU time of handler calls, for agents that measure it (AgentSpec.MeasureCPU)"))
	if err != nil {
		return nil, err
	}
	return t, nil
}

// AgentGauge is one agent's current figures for the observable gauges.
type AgentGauge struct {
	Agent       acl.AgentID
	Depth       int64
	Instances   int64
	MemoryBytes int64 // wasm agents only
	Wasm        bool
	State       string // running, stopped, failed
	CircuitOpen bool
	Restarts    int64 // instances replaced so far
}

// Observe registers the gauges; collect is called at each collection.
func (t *Telemetry) Observe(collect func() []AgentGauge) error {
	if t == nil {
		return nil
	}
	depth, err := t.meter.Int64ObservableGauge(telemetry.MetricDepth, metric.WithUnit("{message}"), metric.WithDescription("Messages queued for the agent"))
	if err != nil {
		return err
	}
	live, err := t.meter.Int64ObservableGauge(telemetry.MetricInstances, metric.WithUnit("{instance}"), metric.WithDescription("Live handler instances of the agent"))
	if err != nil {
		return err
	}
	mem, err := t.meter.Int64ObservableGauge(telemetry.MetricMemory, metric.WithUnit("By"), metric.WithDescription("Linear memory of the agent's wasm instances"))
	if err != nil {
		return err
	}
	up, err := t.meter.Int64ObservableGauge(telemetry.MetricUp, metric.WithDescription("1 while the agent runs, 0 when stopped or failed (caxton.state says which)"))
	if err != nil {
		return err
	}
	circuit, err := t.meter.Int64ObservableGauge(telemetry.MetricCircuitOpen, metric.WithDescription("1 while the agent's circuit breaker is open"))
	if err != nil {
		return err
	}
	restarts, err := t.meter.Int64ObservableCounter(telemetry.MetricRestarts, metric.WithUnit("{instance}"), metric.WithDescription("Instances of the agent replaced after a panic, trap, broken instance or hung handler"))
	if err != nil {
		return err
	}
	t.reg, err = t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, g := range collect() {
			set := t.attrs(attrKey{op: opAgent, dest: g.Agent}).obs
			o.ObserveInt64(depth, g.Depth, set)
			o.ObserveInt64(live, g.Instances, set)
			if g.Wasm {
				o.ObserveInt64(mem, g.MemoryBytes, set)
			}
			isUp, open := int64(0), int64(0)
			if g.State == "running" {
				isUp = 1
			}
			if g.CircuitOpen {
				open = 1
			}
			o.ObserveInt64(up, isUp, metric.WithAttributes(telemetry.KeyDestination.String(string(g.Agent)), telemetry.KeyState.String(g.State)))
			o.ObserveInt64(circuit, open, set)
			o.ObserveInt64(restarts, g.Restarts, set)
		}
		return nil
	}, depth, live, mem, up, circuit, restarts)
	return err
}

// Close unregisters the gauges' callback.
func (t *Telemetry) Close() error {
	if t == nil || t.reg == nil {
		return nil
	}
	return t.reg.Unregister()
}

// attrs returns the cached metric options for k.
func (t *Telemetry) attrs(k attrKey) *attrSet {
	if v, ok := t.sets.Load(k); ok {
		return v.(*attrSet)
	}
	kvs := make([]attribute.KeyValue, 0, 6)
	switch k.op {
	case opSend:
		kvs = append(kvs, messagingSystem, opNameSend, telemetry.KeySender.String(string(k.sender)))
	case opProcess:
		kvs = append(kvs, messagingSystem, opNameProcess)
	}
	if k.dest != "" {
		kvs = append(kvs, telemetry.KeyDestination.String(string(k.dest)))
	}
	if k.perf != 0 {
		kvs = append(kvs, telemetry.KeyPerformative.String(k.perf.String()))
	}
	if k.errType != "" {
		kvs = append(kvs, telemetry.KeyErrorType.String(k.errType))
	}
	set := attribute.NewSet(kvs...)
	opt := metric.WithAttributeSet(set)
	v, _ := t.sets.LoadOrStore(k, &attrSet{add: []metric.AddOption{opt}, rec: []metric.RecordOption{opt}, obs: opt})
	return v.(*attrSet)
}

var (
	messagingSystem = telemetry.KeyMessagingSystem.String("caxton")
	opNameSend      = telemetry.KeyOperationName.String("send")
	opNameProcess   = telemetry.KeyOperationName.String("process")
	opTypeSend      = telemetry.KeyMessagingOperation.String("send")
	opTypeProcess   = telemetry.KeyMessagingOperation.String("process")
)

// Tracer returns the runtime's tracer (for protocol spans).
func (t *Telemetry) Tracer() trace.Tracer {
	if t == nil {
		return tracenoop.NewTracerProvider().Tracer(telemetry.ScopeName)
	}
	return t.tracer
}

// errType names err for error.type ("" for nil).
func (t *Telemetry) errType(err error) string {
	if err == nil {
		return ""
	}
	if s := t.errorType(err); s != "" {
		return s
	}
	return telemetry.ErrorTypeOther
}
