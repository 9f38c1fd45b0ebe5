//go:build !wasip1

// The runtime (wasmtime, cgo) does not build for wasip1: tests against it
// run on the host only.

package protocol_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPropose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		decide   func(context.Context, *acl.Message) error
		sentinel error
		answer   acl.Performative
		reason   string
	}{
		{name: "accepted by default"},
		{name: "accepted", decide: func(_ context.Context, m *acl.Message) error { return nil }},
		{name: "rejected", decide: func(context.Context, *acl.Message) error { return protocol.Refuse("too expensive") },
			sentinel: protocol.ErrRefused, answer: acl.RejectProposal, reason: "too expensive"},
		{name: "not understood", decide: func(context.Context, *acl.Message) error { return protocol.NotUnderstood("which lunch?") },
			sentinel: protocol.ErrNotUnderstood, answer: acl.NotUnderstood, reason: "which lunch?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.spawn("colleague", protocol.ProposeResponder{Decide: tc.decide})
			m := acl.New(0, "colleague")
			m.Content = []byte("lunch at noon")
			ans, err := e.c.Propose(e.ctx, m)
			require.NotNil(t, ans)
			assert.Equal(t, acl.Propose, m.Performative)
			assert.Equal(t, protocol.FIPAPropose, m.Protocol)
			assert.Empty(t, ans.Violations)
			if tc.sentinel == nil {
				require.NoError(t, err)
				assert.Equal(t, acl.AcceptProposal, ans.Result.Performative)
				assert.Equal(t, "lunch at noon", string(ans.Result.Content), "the accept names what it accepts")
				return
			}
			require.ErrorIs(t, err, tc.sentinel)
			var re *protocol.ReplyError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.answer, re.Performative)
			assert.Equal(t, tc.reason, re.Reason)
			assert.Nil(t, ans.Result)
		})
	}
}

func TestProposeResponderErrorIsRetriedByTheRuntime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var attempts atomic.Int32
	e.rt.MustSpawn(caxton.AgentSpec{
		Name:     "colleague",
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 3, Backoff: caxton.Backoff{Initial: time.Second, Max: time.Second, Multiplier: 2}},
		Handler: caxton.ProtocolHandler(protocol.ProposeResponder{Decide: func(context.Context, *acl.Message) error {
			if attempts.Add(1) == 1 {
				return errNope // calendar unavailable: try again later
			}
			return nil
		}}),
	})
	done := result(func() answerOf { ans, err := e.c.Propose(e.ctx, acl.New(0, "colleague")); return answerOf{ans, err} })
	e.rt.AdvanceWhenWaiting(1, time.Second) // the retry backoff
	got := recv(t, done)
	require.NoError(t, got.err)
	assert.Equal(t, acl.AcceptProposal, got.ans.Result.Performative)
	assert.Equal(t, int32(2), attempts.Load())
}

func TestProposeHasNoAgreeAndNoFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.peer("colleague", func(in *acl.Message) []*acl.Message {
		if in.Performative != acl.Propose {
			return nil
		}
		return msgs(reply(in, acl.Agree, ""), reply(in, acl.Failure, "oops"), reply(in, acl.RejectProposal, "no"))
	})
	ans, err := e.c.Propose(e.ctx, acl.New(0, "colleague"))
	require.ErrorIs(t, err, protocol.ErrRefused)
	require.Len(t, ans.Violations, 2)
	assert.Equal(t, "agree does not belong in the fipa-propose protocol", ans.Violations[0].Reason)
	assert.Equal(t, "failure does not belong in the fipa-propose protocol", ans.Violations[1].Reason)
	assert.Nil(t, ans.Agree)
	p.next(t)
	assert.Contains(t, string(p.nextOf(t, acl.NotUnderstood).Content), "agree does not belong")
	assert.Contains(t, string(p.nextOf(t, acl.NotUnderstood).Content), "failure does not belong")
}

func TestProposeTimesOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.peer("colleague", nil)
	m := acl.New(0, "colleague")
	m.ReplyBy = e.rt.Clock.Now().Add(time.Second)
	done := result(func() answerOf { ans, err := e.c.Propose(e.ctx, m); return answerOf{ans, err} })
	p.next(t)
	e.rt.AdvanceWhenWaiting(1, time.Second)
	got := recv(t, done)
	assert.ErrorIs(t, got.err, protocol.ErrTimeout)
	assert.NotNil(t, got.ans)
}
