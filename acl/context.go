package acl

import "context"

type messageKey struct{}

// NewContext returns ctx carrying m: the message the code running with
// ctx is about. Packages that compile into guests and so cannot import
// OpenTelemetry (protocol, contractnet) log with such a context; a log
// handler that knows the message's trace-context format
// (telemetry.LogHandler) then adds the message's trace id to the record,
// so those lines join the message's trace like the runtime's own.
func NewContext(ctx context.Context, m *Message) context.Context {
	return context.WithValue(ctx, messageKey{}, m)
}

// FromContext returns the message ctx carries (NewContext), if any.
func FromContext(ctx context.Context) (*Message, bool) {
	m, ok := ctx.Value(messageKey{}).(*Message)
	return m, ok && m != nil
}
