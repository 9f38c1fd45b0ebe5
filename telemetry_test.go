package caxton_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/telemetry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// observed is a runtime wired to an in-memory span recorder, a manual
// metric reader and a JSON log buffer.
type observed struct {
	*caxtontest.Runtime
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	logs   *syncBuffer
}

func newObserved(t *testing.T) *observed {
	t.Helper()
	o := &observed{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), logs: &syncBuffer{}}
	o.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(o.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(o.reader))
	o.Runtime = caxtontest.NewRuntime(t,
		caxton.WithTracerProvider(o.tp), caxton.WithMeterProvider(mp),
		caxton.WithLogger(slog.New(slog.NewJSONHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	return o
}

// span finds the one ended span named name whose attribute key has value.
func (o *observed) span(t *testing.T, name string, key attribute.Key, value string, attempt int) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range o.spans.Ended() {
		if s.Name() != name || attr(s, key) != value {
			continue
		}
		if attempt > 0 && attr(s, telemetry.KeyAttempt) != itoa(attempt) {
			continue
		}
		found = append(found, s)
	}
	require.Len(t, found, 1, "spans named %q with %s=%s attempt %d", name, key, value, attempt)
	return found[0]
}

func attr(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value.String()
		}
	}
	return ""
}

func itoa(n int) string { return attribute.IntValue(n).String() }

// counter sums a metric's points (a histogram's counts) for an agent, the
// points' messaging.destination.name.
func (o *observed) counter(t *testing.T, name string, agent acl.AgentID) int64 {
	t.Helper()
	return o.metric(t, name, telemetry.KeyDestination.String(string(agent)))
}

// metric sums a metric's points (a histogram's counts) whose attributes
// include every one of match; an empty-string match means the key is absent.
func (o *observed) metric(t *testing.T, name string, match ...attribute.KeyValue) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, o.reader.Collect(context.Background(), &rm))
	matches := func(set attribute.Set) bool {
		for _, kv := range match {
			v, ok := set.Value(kv.Key)
			if kv.Value.AsString() == "" && kv.Value.Type() == attribute.STRING {
				if ok {
					return false
				}
				continue
			}
			if !ok || v != kv.Value {
				return false
			}
		}
		return true
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					if matches(p.Attributes) {
						total += p.Value
					}
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					if matches(p.Attributes) {
						total += p.Value
					}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					if matches(p.Attributes) {
						total += int64(p.Count)
					}
				}
			}
		}
	}
	return total
}

// One customer request crosses the host, a native agent (which fails once
// and is retried) and a wasm agent, and comes back: one trace, with every
// span parented on the one that caused it, and the metrics to match.
func TestTelemetryTracesAConversationAcrossNativeAndWasm(t *testing.T) {
	o := newObserved(t)
	ctx := caxtontest.Context(t)
	echo := filepath.Join(testguest.ModuleRoot(), "guest", "c", "agents", "echo.wasm")
	o.MustSpawn(caxton.AgentSpec{Name: "echo", Wasm: &caxton.WasmSpec{File: echo}})
	var calls atomic.Int32
	o.MustSpawn(caxton.AgentSpec{Name: "front",
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 3, Backoff: caxton.Backoff{Initial: time.Second}},
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			if calls.Add(1) == 1 {
				return errors.New("cache cold")
			}
			mc.Logger().InfoContext(ctx, "asking echo")
			ans, err := mc.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}, Content: mc.Message().Content})
			if err != nil {
				return err
			}
			return mc.Reply(ctx, acl.Inform, ans.Content)
		})})

	rootCtx, root := o.tp.Tracer("test").Start(ctx, "customer request")
	done := make(chan *acl.Message, 1)
	go func() {
		r, err := o.Request(rootCtx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"front"}, Content: []byte("ping")})
		assert.NoError(t, err)
		done <- r
	}()
	o.AdvanceWhenWaiting(1, time.Second) // the retry's backoff
	reply := <-done
	root.End()
	require.Equal(t, "ping", string(reply.Content))
	caxtontest.Eventually(t, func() bool {
		f, err1 := o.Agent("front")
		e, err2 := o.Agent("echo")
		return err1 == nil && err2 == nil && f.Processed == 1 && e.Processed == 1
	}, "front and echo finished handling")

	hostSend := o.span(t, "send front", telemetry.KeySender, "host", 0)
	front1 := o.span(t, "process front", telemetry.KeyDestination, "front", 1)
	front2 := o.span(t, "process front", telemetry.KeyDestination, "front", 2)
	frontSend := o.span(t, "send echo", telemetry.KeySender, "front", 0)
	echoProc := o.span(t, "process echo", telemetry.KeyDestination, "echo", 1)
	echoSend := o.span(t, "send front", telemetry.KeySender, "echo", 0)
	frontReply := o.span(t, "send host", telemetry.KeySender, "front", 0)

	traceID := root.SpanContext().TraceID()
	for _, s := range []sdktrace.ReadOnlySpan{hostSend, front1, front2, frontSend, echoProc, echoSend, frontReply} {
		assert.Equal(t, traceID, s.SpanContext().TraceID(), "span %q is in the request's trace", s.Name())
	}
	parent := func(child, p sdktrace.ReadOnlySpan) {
		t.Helper()
		assert.Equal(t, p.SpanContext().SpanID(), child.Parent().SpanID(), "%s's parent is %s", child.Name(), p.Name())
	}
	assert.Equal(t, root.SpanContext().SpanID(), hostSend.Parent().SpanID())
	parent(front1, hostSend)
	parent(front2, hostSend)
	parent(frontSend, front2)
	parent(echoProc, frontSend)
	parent(echoSend, echoProc)
	parent(frontReply, front2)

	assert.Equal(t, trace.SpanKindProducer, hostSend.SpanKind())
	assert.Equal(t, trace.SpanKindConsumer, front1.SpanKind())
	assert.Equal(t, codes.Error, front1.Status().Code)
	assert.Equal(t, "retry", attr(front1, telemetry.KeyOutcome))
	assert.Equal(t, telemetry.ErrorTypeOther, attr(front1, telemetry.KeyErrorType), "an error of the handler's own")
	assert.Empty(t, attr(front2, telemetry.KeyErrorType))
	require.NotEmpty(t, front1.Events())
	assert.Equal(t, "exception", front1.Events()[0].Name)
	assert.Equal(t, "delivered", attr(front2, telemetry.KeyOutcome))
	assert.Equal(t, "1", attr(echoProc, telemetry.KeyBatchSize))
	assert.NotEqual(t, "", attr(echoProc, telemetry.KeyFuelUsed))
	assert.NotEqual(t, "0", attr(echoProc, telemetry.KeyFuelUsed))
	assert.Equal(t, hostSend.Attributes()[0].Value.String(), "caxton")
	assert.NotEmpty(t, attr(hostSend, telemetry.KeyMessageID))
	assert.Equal(t, attr(hostSend, telemetry.KeyMessageID), attr(front2, telemetry.KeyMessageID))

	sent := func(sender acl.AgentID) int64 {
		return o.metric(t, telemetry.MetricSent, telemetry.KeySender.String(string(sender)))
	}
	assert.Equal(t, int64(1), sent("host"))
	assert.Equal(t, int64(2), sent("front"))
	assert.Equal(t, int64(1), sent("echo"))
	assert.Equal(t, int64(1), o.metric(t, telemetry.MetricSent, telemetry.KeySender.String("front"),
		telemetry.KeyDestination.String("echo"), telemetry.KeyOperationName.String("send"), telemetry.KeyMessagingSystem.String("caxton"),
		telemetry.KeyPerformative.String("request"), telemetry.KeyErrorType.String("")))
	ok, failed := telemetry.KeyErrorType.String(""), telemetry.KeyErrorType.String(telemetry.ErrorTypeOther)
	front := telemetry.KeyDestination.String("front")
	assert.Equal(t, int64(1), o.metric(t, telemetry.MetricConsumed, front, ok), "delivered")
	assert.Equal(t, int64(1), o.metric(t, telemetry.MetricConsumed, front, failed, telemetry.KeyOperationName.String("process")), "failed")
	assert.Equal(t, int64(1), o.counter(t, telemetry.MetricRetried, "front"))
	assert.Equal(t, int64(1), o.metric(t, telemetry.MetricConsumed, telemetry.KeyDestination.String("echo"), ok))
	assert.Equal(t, int64(2), o.counter(t, telemetry.MetricDuration, "front"), "one duration per attempt")
	assert.Equal(t, int64(1), o.metric(t, telemetry.MetricDuration, front, failed), "the failed attempt's duration has error.type")
	assert.Positive(t, o.counter(t, telemetry.MetricFuel, "echo"))
	assert.Equal(t, int64(1), o.counter(t, telemetry.MetricInstances, "echo"))
	assert.Positive(t, o.counter(t, telemetry.MetricMemory, "echo"))
	assert.Equal(t, int64(0), o.counter(t, telemetry.MetricDepth, "front"))

	// The handler's log line carries the agent and its span.
	rec := o.logs.find(t, "asking echo")
	assert.Equal(t, "front", rec["agent"])
	assert.Equal(t, front2.SpanContext().TraceID().String(), rec["trace_id"])
	assert.Equal(t, front2.SpanContext().SpanID().String(), rec["span_id"])
}

// A trap is an error on the handling span; dead-lettering is its outcome
// and is counted; a guest's log line carries the agent and the trace.
func TestTelemetryRecordsTrapsDeadLettersAndGuestLogs(t *testing.T) {
	o := newObserved(t)
	ctx := caxtontest.Context(t)
	o.MustSpawn(caxton.AgentSpec{Name: "crasher", Wasm: &caxton.WasmSpec{WAT: testguest.WATUnreachable},
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 1}})
	o.MustSpawn(caxton.AgentSpec{Name: "logger", Wasm: &caxton.WasmSpec{WAT: testguest.WATLogsData}})

	rootCtx, root := o.tp.Tracer("test").Start(ctx, "batch job")
	require.NoError(t, o.Send(rootCtx, acl.New(acl.Inform, "crasher")))
	require.NoError(t, o.Send(rootCtx, acl.New(acl.Inform, "logger")))
	root.End()
	o.AdvanceWhenWaiting(1, time.Minute) // the broken instance's replacement backoff
	o.AwaitDeadLetters(1)
	caxtontest.Eventually(t, func() bool {
		a, err := o.Agent("logger")
		return err == nil && a.Processed == 1
	}, "logger handled its message")

	crash := o.span(t, "process crasher", telemetry.KeyDestination, "crasher", 1)
	assert.Equal(t, codes.Error, crash.Status().Code)
	assert.Contains(t, crash.Status().Description, "unreachable")
	assert.Equal(t, "dead_lettered", attr(crash, telemetry.KeyOutcome))
	assert.Equal(t, root.SpanContext().TraceID(), crash.SpanContext().TraceID())
	assert.Equal(t, int64(1), o.counter(t, telemetry.MetricDeadLettered, "crasher"))
	assert.Equal(t, int64(1), o.metric(t, telemetry.MetricConsumed, telemetry.KeyDestination.String("crasher"),
		telemetry.KeyErrorType.String(telemetry.ErrorTypeWasmTrap)))
	assert.Equal(t, telemetry.ErrorTypeWasmTrap, attr(crash, telemetry.KeyErrorType))

	// The log lines about the failure name the message and carry its trace.
	failed := o.logs.findAttr(t, "msg", "handler failed", "message_id")
	assert.Equal(t, crash.SpanContext().TraceID().String(), failed["trace_id"])
	assert.Equal(t, attr(crash, telemetry.KeyMessageID), failed["message_id"])
	assert.EqualValues(t, 1, failed["attempt"])
	dead := o.logs.findAttr(t, "msg", "message dead-lettered", "trace_id")
	assert.Equal(t, root.SpanContext().TraceID().String(), dead["trace_id"])
	assert.Equal(t, attr(crash, telemetry.KeyMessageID), dead["message_id"])
	assert.EqualValues(t, 1, dead["attempt"])

	logged := o.span(t, "process logger", telemetry.KeyDestination, "logger", 1)
	rec := o.logs.findAttr(t, "agent", "logger", "trace_id")
	assert.Equal(t, logged.SpanContext().TraceID().String(), rec["trace_id"])
	assert.Equal(t, logged.SpanContext().SpanID().String(), rec["span_id"])
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (b *syncBuffer) lock() {
	if b.mu == nil {
		b.mu = make(chan struct{}, 1)
	}
	b.mu <- struct{}{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.lock()
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) records(t *testing.T) []map[string]any {
	b.lock()
	defer func() { <-b.mu }()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		out = append(out, rec)
	}
	return out
}

func (b *syncBuffer) find(t *testing.T, msg string) map[string]any {
	t.Helper()
	for _, r := range b.records(t) {
		if r["msg"] == msg {
			return r
		}
	}
	t.Fatalf("no log record %q in:\n%s", msg, b.buf.String())
	return nil
}

func (b *syncBuffer) findAttr(t *testing.T, key, value, has string) map[string]any {
	t.Helper()
	for _, r := range b.records(t) {
		if r[key] == value && r[has] != nil {
			return r
		}
	}
	t.Fatalf("no log record with %s=%s and %s in:\n%s", key, value, has, b.buf.String())
	return nil
}
