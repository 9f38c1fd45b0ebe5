//go:build !wasip1

// The runtime (wasmtime, cgo) does not build for wasip1: tests against it
// run on the host only.

package protocol_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryIf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		r        protocol.QueryResponder
		want     bool
		sentinel error
		reason   string
	}{
		{name: "true", r: protocol.QueryResponder{If: func(_ context.Context, m *acl.Message) (bool, error) {
			return string(m.Content) == "in-stock(A-1)", nil
		}}, want: true},
		{name: "false", r: protocol.QueryResponder{If: func(context.Context, *acl.Message) (bool, error) { return false, nil }}},
		{name: "refused", r: protocol.QueryResponder{If: func(context.Context, *acl.Message) (bool, error) {
			return false, protocol.Refuse("not telling")
		}}, sentinel: protocol.ErrRefused, reason: "not telling"},
		{name: "failure", r: protocol.QueryResponder{If: func(context.Context, *acl.Message) (bool, error) { return false, errNope }},
			sentinel: protocol.ErrFailure, reason: "nope"},
		{name: "no If", r: protocol.QueryResponder{}, sentinel: protocol.ErrNotUnderstood, reason: "answers no query-if"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.spawn("stock", tc.r)
			m := acl.New(0, "stock")
			m.Content = []byte("in-stock(A-1)")
			got, ans, err := e.c.QueryIf(e.ctx, m)
			require.NotNil(t, ans)
			assert.Equal(t, protocol.FIPAQuery, m.Protocol)
			assert.Equal(t, acl.QueryIf, m.Performative)
			if tc.sentinel != nil {
				require.ErrorIs(t, err, tc.sentinel)
				assert.False(t, got)
				var re *protocol.ReplyError
				require.ErrorAs(t, err, &re)
				assert.Contains(t, re.Reason, tc.reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, acl.Inform, ans.Result.Performative)
		})
	}
}

func TestQueryIfRejectsAnAnswerThatIsNotABoolean(t *testing.T) {
	t.Parallel()
	for _, content := range []string{"maybe", "null", `"true"`, "1", ""} {
		t.Run(content, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := e.peer("stock", func(in *acl.Message) []*acl.Message {
				if in.Performative != acl.QueryIf {
					return nil
				}
				r := reply(in, acl.Inform, "")
				r.Content = []byte(content)
				return msgs(r)
			})
			got, ans, err := e.c.QueryIf(e.ctx, acl.New(0, "stock"))
			require.ErrorIs(t, err, protocol.ErrViolation)
			assert.False(t, got)
			assert.Contains(t, err.Error(), "content")
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", content))
			require.NotNil(t, ans.Result, "the unusable inform is kept")
			require.Len(t, ans.Violations, 1)
			assert.Same(t, ans.Result, ans.Violations[0].Message)
			nu := p.nextOf(t, acl.NotUnderstood)
			assert.Equal(t, ans.Result.ReplyWith, nu.InReplyTo)
			assert.Contains(t, string(nu.Content), "true or false")
		})
	}
}

func TestQueryIfAcceptsJSONWithSpaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.peer("stock", func(in *acl.Message) []*acl.Message {
		if in.Performative != acl.QueryIf {
			return nil
		}
		return msgs(reply(in, acl.Agree, ""), reply(in, acl.Inform, " true\n"))
	})
	got, ans, err := e.c.QueryIf(e.ctx, acl.New(0, "stock"))
	require.NoError(t, err)
	assert.True(t, got)
	assert.NotNil(t, ans.Agree, "query allows an agree first")
}

func TestQueryRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		r        protocol.QueryResponder
		want     string
		sentinel error
	}{
		{name: "value", r: protocol.QueryResponder{Ref: func(_ context.Context, m *acl.Message) ([]byte, error) {
			return []byte(`{"price":12.5}`), nil
		}}, want: `{"price":12.5}`},
		{name: "refused", r: protocol.QueryResponder{Ref: func(context.Context, *acl.Message) ([]byte, error) {
			return nil, protocol.Refuse("private")
		}}, sentinel: protocol.ErrRefused},
		{name: "misunderstood", r: protocol.QueryResponder{Ref: func(context.Context, *acl.Message) ([]byte, error) {
			return nil, protocol.NotUnderstood("which sku?")
		}}, sentinel: protocol.ErrNotUnderstood},
		{name: "failure", r: protocol.QueryResponder{Ref: func(context.Context, *acl.Message) ([]byte, error) { return nil, errNope }},
			sentinel: protocol.ErrFailure},
		{name: "no Ref", r: protocol.QueryResponder{If: func(context.Context, *acl.Message) (bool, error) { return true, nil }},
			sentinel: protocol.ErrNotUnderstood},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.spawn("prices", tc.r)
			m := acl.New(0, "prices")
			m.Content = []byte("price(A-1)")
			ans, err := e.c.QueryRef(e.ctx, m)
			require.NotNil(t, ans)
			assert.Equal(t, acl.QueryRef, m.Performative)
			assert.Equal(t, protocol.FIPAQuery, m.Protocol)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(ans.Result.Content))
		})
	}
}

func TestQueryRefTimesOutAndHonoursContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.peer("prices", nil)
	m := acl.New(0, "prices")
	m.ReplyBy = e.rt.Clock.Now().Add(time.Minute)
	done := result(func() answerOf { ans, err := e.c.QueryRef(e.ctx, m); return answerOf{ans, err} })
	p.next(t)
	e.rt.AdvanceWhenWaiting(1, time.Minute)
	assert.ErrorIs(t, recv(t, done).err, protocol.ErrTimeout)

	ctx, cancel := context.WithCancel(e.ctx)
	type ifOf struct {
		ok  bool
		err error
	}
	done2 := result(func() ifOf { ok, _, err := e.c.QueryIf(ctx, acl.New(0, "prices")); return ifOf{ok, err} })
	p.next(t)
	cancel()
	assert.ErrorIs(t, recv(t, done2).err, context.Canceled)
}
