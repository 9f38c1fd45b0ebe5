package telemetry

import (
	"context"
	"log/slog"

	"github.com/caxton-go/caxton/acl"
	"go.opentelemetry.io/otel/trace"
)

// LogHandler wraps h so every record logged with a context that carries a
// span gets trace_id and span_id attributes: logs and traces join up in
// any backend. A context without a span but carrying a message
// (acl.NewContext, as package protocol logs) gets the ids of the span the
// message was sent in, read from its trace context. Other records pass
// through unchanged.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(*logHandler); ok {
		return h
	}
	return &logHandler{h}
}

type logHandler struct{ next slog.Handler }

func (l *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.next.Enabled(ctx, level)
}

func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		if m, ok := acl.FromContext(ctx); ok {
			sc = trace.SpanContextFromContext(Extract(context.Background(), m))
		}
	}
	if sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.next.Handle(ctx, r)
}

func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{l.next.WithAttrs(attrs)}
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{l.next.WithGroup(name)}
}

// WithContext returns l bound to ctx: a record logged without a span of
// its own (plain Info, not InfoContext) is handled as if logged with ctx,
// so it still gets ctx's trace_id and span_id from LogHandler.
func WithContext(l *slog.Logger, ctx context.Context) *slog.Logger {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return l
	}
	return slog.New(&boundHandler{next: l.Handler(), ctx: ctx})
}

type boundHandler struct {
	next slog.Handler
	ctx  context.Context
}

func (b *boundHandler) use(ctx context.Context) context.Context {
	if ctx == nil || !trace.SpanContextFromContext(ctx).IsValid() {
		return b.ctx
	}
	return ctx
}

func (b *boundHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return b.next.Enabled(b.use(ctx), level)
}

func (b *boundHandler) Handle(ctx context.Context, r slog.Record) error {
	return b.next.Handle(b.use(ctx), r)
}

func (b *boundHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &boundHandler{next: b.next.WithAttrs(attrs), ctx: b.ctx}
}

func (b *boundHandler) WithGroup(name string) slog.Handler {
	return &boundHandler{next: b.next.WithGroup(name), ctx: b.ctx}
}
