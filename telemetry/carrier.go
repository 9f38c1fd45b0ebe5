package telemetry

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/caxton-go/caxton/acl"
	"go.opentelemetry.io/otel/trace"
)

// Carrier adapts a message's TraceContext field to TextMapCarrier (and so
// to OpenTelemetry's propagation.TextMapCarrier), so the span and baggage
// ride with the message from agent to agent — across the wasm boundary
// too, since the guest ABI carries the field. It is propagation.MapCarrier
// over the message's map, which it creates on first Set; that package is
// not imported for the reason given at Inject.
type Carrier struct{ M *acl.Message }

// Get returns the value for key.
func (c Carrier) Get(key string) string { return c.M.TraceContext[key] }

// Set stores key=value, creating the map on first use.
func (c Carrier) Set(key, value string) {
	if c.M.TraceContext == nil {
		c.M.TraceContext = make(map[string]string, 2)
	}
	c.M.TraceContext[key] = value
}

// Keys lists the keys present.
func (c Carrier) Keys() []string {
	keys := make([]string, 0, len(c.M.TraceContext))
	for k := range c.M.TraceContext {
		keys = append(keys, k)
	}
	return keys
}

// Inject writes ctx's span context into m in the W3C trace-context format
// ("traceparent", and "tracestate" when there is one), as OpenTelemetry's
// propagation.TraceContext does. It is TraceContext{}.Inject on Carrier{m};
// the runtime itself uses its Propagator (DefaultPropagator adds baggage).
//
// The W3C format is implemented here rather than imported: package
// go.opentelemetry.io/otel/propagation imports net/http (for its header
// carrier), which is a third of the compile time of a fresh build of a
// program importing caxton. A test checks both agree.
func Inject(ctx context.Context, m *acl.Message) { injectTraceContext(ctx, Carrier{m}) }

func injectTraceContext(ctx context.Context, c TextMapCarrier) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	if ts := sc.TraceState().String(); ts != "" {
		c.Set(tracestateKey, ts)
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	flags := [1]byte{byte(sc.TraceFlags() & (trace.FlagsSampled | trace.FlagsRandom))}
	var b strings.Builder
	b.Grow(55)
	b.WriteString("00")
	for _, part := range [][]byte{tid[:], sid[:], flags[:]} {
		b.WriteByte('-')
		b.WriteString(hex.EncodeToString(part))
	}
	c.Set(traceparentKey, b.String())
}

// Extract returns ctx carrying the remote span context found in m, if any;
// a missing or malformed traceparent leaves ctx as it is, and a malformed
// tracestate is dropped (as the W3C specification requires). It is
// TraceContext{}.Extract on Carrier{m}.
func Extract(ctx context.Context, m *acl.Message) context.Context {
	if len(m.TraceContext) == 0 {
		return ctx
	}
	return extractTraceContext(ctx, Carrier{m})
}

func extractTraceContext(ctx context.Context, c TextMapCarrier) context.Context {
	h := c.Get(traceparentKey)
	if h == "" {
		return ctx
	}
	var ver, flags [1]byte
	var scc trace.SpanContextConfig
	if !hexPart(ver[:], &h) || ver[0] == 0xff || !hexPart(scc.TraceID[:], &h) || !hexPart(scc.SpanID[:], &h) || !hexPart(flags[:], &h) {
		return ctx
	}
	if ver[0] == 0 && (h != "" || flags[0] > 3) {
		return ctx // version 00 has no further fields and no other flag bits
	}
	scc.TraceFlags = trace.TraceFlags(flags[0]) & (trace.FlagsSampled | trace.FlagsRandom)
	scc.TraceState, _ = trace.ParseTraceState(c.Get(tracestateKey))
	scc.Remote = true
	sc := trace.NewSpanContext(scc)
	if !sc.IsValid() {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// The trace-context keys in acl.Message.TraceContext.
const (
	traceparentKey = "traceparent"
	tracestateKey  = "tracestate"
)

// hexPart decodes the next "-"-separated field of *h, which must be
// exactly 2*len(dst) lower-case hex digits, into dst, and advances *h past
// it.
func hexPart(dst []byte, h *string) bool {
	part, rest, _ := strings.Cut(*h, "-")
	*h = rest
	if len(part) != 2*len(dst) || strings.ToLower(part) != part {
		return false
	}
	_, err := hex.Decode(dst, []byte(part))
	return err == nil
}
