package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caxton-go/caxton/telemetry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// collector is a span exporter that keeps the spans, so the demo can print
// them as a tree when it ends (instead of one line of JSON per span).
type collector struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (c *collector) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spans = append(c.spans, spans...)
	return nil
}

func (c *collector) Shutdown(context.Context) error { return nil }

// printTree writes the spans as an indented tree, each child under its
// parent in start order, one line per span: who handled it, what it was,
// how long it took and how it ended.
func printTree(w io.Writer, spans []sdktrace.ReadOnlySpan) {
	children := map[string][]sdktrace.ReadOnlySpan{}
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.SpanContext().SpanID().String()] = true
	}
	var roots []sdktrace.ReadOnlySpan
	for _, s := range spans {
		parent := s.Parent().SpanID().String()
		if !s.Parent().IsValid() || !ids[parent] {
			roots = append(roots, s)
			continue
		}
		children[parent] = append(children[parent], s)
	}
	byStart := func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) }
	slices.SortFunc(roots, byStart)
	for _, cs := range children {
		slices.SortFunc(cs, byStart)
	}
	var walk func(s sdktrace.ReadOnlySpan, prefix string, last, root bool)
	walk = func(s sdktrace.ReadOnlySpan, prefix string, last, root bool) {
		branch, next := "", ""
		if !root {
			branch, next = "├─ ", "│  "
			if last {
				branch, next = "└─ ", "   "
			}
		}
		fmt.Fprintf(w, "%s%s%s\n", prefix, branch, spanLine(s))
		cs := children[s.SpanContext().SpanID().String()]
		for i, c := range cs {
			walk(c, prefix+next, i == len(cs)-1, false)
		}
	}
	for _, r := range roots {
		fmt.Fprintf(w, "trace %s\n", r.SpanContext().TraceID())
		walk(r, "", true, true)
	}
}

// spanLine is one span: agent (for handling spans), operation and act
// (for messaging spans, named "{operation} {destination}"), attempt,
// duration, outcome and error.
func spanLine(s sdktrace.ReadOnlySpan) string {
	attrs := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		attrs[kv.Key] = kv.Value.String()
	}
	var b strings.Builder
	switch attrs[telemetry.KeyOperationName] {
	case "process":
		fmt.Fprintf(&b, "[%s] process %s", attrs[telemetry.KeyDestination], attrs[telemetry.KeyPerformative])
	case "send":
		to := attrs[telemetry.KeyDestination]
		if to == "" {
			to = strings.ReplaceAll(strings.Trim(attrs[telemetry.KeyReceivers], "[]"), `"`, "")
		}
		fmt.Fprintf(&b, "send %s → %s", attrs[telemetry.KeyPerformative], to)
	default:
		b.WriteString(s.Name())
	}
	if a := attrs[telemetry.KeyAttempt]; a != "" {
		fmt.Fprintf(&b, " (attempt %s)", a)
	}
	fmt.Fprintf(&b, "  %s", s.EndTime().Sub(s.StartTime()).Round(time.Microsecond))
	if o := attrs[telemetry.KeyOutcome]; o != "" {
		fmt.Fprintf(&b, "  %s", o)
	}
	if s.Status().Code == codes.Error {
		fmt.Fprintf(&b, "  error: %s", s.Status().Description)
	}
	return b.String()
}

// printMetrics writes the counters and histograms collected by r: one line
// per instrument and agent.
func printMetrics(ctx context.Context, w io.Writer, r *metric.ManualReader) error {
	var rm metricdata.ResourceMetrics
	if err := r.Collect(ctx, &rm); err != nil {
		return err
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%-36s %-28s %d", m.Name, labels(p.Attributes), p.Value))
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%-36s %-28s %d calls, %.3f ms in all", m.Name, labels(p.Attributes), p.Count, p.Sum*1000))
				}
			}
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	return nil
}

// labels renders a data point's agent (the sender of a send, else the
// destination), performative and error type.
func labels(set attribute.Set) string {
	var parts []string
	for _, k := range []attribute.Key{telemetry.KeySender, telemetry.KeyDestination, telemetry.KeyPerformative, telemetry.KeyErrorType} {
		if v, ok := set.Value(k); ok {
			parts = append(parts, v.String())
		}
	}
	return strings.Join(parts, " ")
}
