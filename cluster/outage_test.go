package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With NATS gone, local delivery goes on, a remote send waits its bound
// and fails with *UnavailableError; when NATS is back, sends resume and
// what was queued before the outage arrives.
func TestNATSOutage(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 2, WithSendTimeout(300*time.Millisecond))
	ctx := testCtx(t)
	remote, local := newCounter(), newCounter()
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "far", Handler: remote.handler()}))
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "near", Handler: local.handler()}))
	send := func(to acl.AgentID, content string) error {
		return tc.rts[0].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{to}, Content: []byte(content)})
	}
	require.NoError(t, send("far", "before"))
	eventually(t, func() bool { return remote.n.Load() == 1 }, "the first remote message")

	tc.nats.Stop(0)
	require.NoError(t, send("near", "during"), "local delivery does not need NATS")
	eventually(t, func() bool { return local.n.Load() == 1 }, "the local message")
	start := time.Now()
	err := send("far", "during")
	var ue *UnavailableError
	require.ErrorAs(t, err, &ue)
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, "send", ue.Op)
	assert.Equal(t, "far", ue.Receiver)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)

	require.NoError(t, tc.nats.Restart(0))
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, tc.nats.WaitReady(rctx))
	eventually(t, func() bool { return send("far", "after") == nil }, "a remote send once NATS is back")
	eventually(t, func() bool { return remote.distinct() == 2 }, "the message sent after the outage")
	remote.mu.Lock()
	defer remote.mu.Unlock()
	assert.Equal(t, 1, remote.seen["before"])
	assert.Zero(t, remote.seen["during"], "a send that failed was not delivered")
	assert.GreaterOrEqual(t, remote.seen["after"], 1)
}

// A NATS cluster still forming (or a server restarting) refuses to place a
// replicated stream for a while: setup and the directory retry those
// answers within their bound; answers that will not change are not retried.
func TestTransientErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&jetstream.APIError{Code: 500, ErrorCode: errCodeNoPeers, Description: "no suitable peers for placement, peer offline"}, true},
		{fmt.Errorf("creating: %w", &jetstream.APIError{Code: 503, ErrorCode: errCodeClusterNotAvailable}), true},
		{nats.ErrTimeout, true},
		{nats.ErrNoResponders, true},
		{context.DeadlineExceeded, true},
		{&jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeBadRequest}, false},
		{&jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeStreamNameInUse}, false},
		{errors.New("something else"), false},
	} {
		assert.Equal(t, c.want, transient(c.err), "%v", c.err)
	}
}

// A mail stream of the versions that made it without work-queue retention
// (NATS cannot change it) stops a node at start with a clear error, not a
// stream that keeps every frame.
func TestAMailStreamOfAnotherRetentionIsRefused(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 0)
	raw, err := nats.Connect(strings.Join(tc.nats.URLs(), ","))
	require.NoError(t, err)
	defer raw.Close()
	js, err := jetstream.New(raw)
	require.NoError(t, err)
	lay := newLayout("caxton")
	_, err = js.CreateStream(testCtx(t), jetstream.StreamConfig{Name: lay.stream, Subjects: []string{lay.mailSubjects()}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = New("n0", WithURLs(tc.nats.URLs()...), WithConnectWait(10*time.Second))
	require.ErrorIs(t, err, ErrIncompatible)
	assert.Contains(t, err.Error(), "nats stream rm "+lay.stream)
}
