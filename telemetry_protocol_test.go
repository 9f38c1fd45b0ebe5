package caxton_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/protocol"
)

// Package protocol cannot import OpenTelemetry (it compiles into guests),
// yet its log lines about a message carry that message's trace: it logs
// with acl.NewContext, and the runtime's logger (telemetry.LogHandler)
// reads the trace id from the message.
func TestProtocolLogLinesCarryTheMessagesTrace(t *testing.T) {
	o := newObserved(t)
	ctx := caxtontest.Context(t)
	ib, err := o.NewInbox("asker")
	require.NoError(t, err)
	client := protocol.NewClient(ib, protocol.WithLogger(o.Logger()))
	defer client.Close()

	rootCtx, root := o.tp.Tracer("test").Start(ctx, "stray")
	stray := &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"asker"}, ConversationID: "nobody-opened-this"}
	require.NoError(t, o.Send(rootCtx, stray))
	root.End()
	require.NoError(t, client.Sync(ctx)) // the stray has been dispatched (and logged)

	rec := o.logs.findAttr(t, "msg", "protocol: message for no open conversation", "message_id")
	assert.Equal(t, root.SpanContext().TraceID().String(), rec["trace_id"])
	assert.Equal(t, stray.ID.String(), rec["message_id"])
	assert.Equal(t, "nobody-opened-this", rec["conversation_id"])
}
