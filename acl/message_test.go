package acl_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
)

func TestFieldError(t *testing.T) {
	err := error(&acl.FieldError{Field: "receiver", Reason: "no receiver"})
	assert.Equal(t, "acl: field receiver: no receiver", err.Error())
	assert.Same(t, acl.ErrInvalid, errors.Unwrap(err))
	assert.True(t, errors.Is(fmt.Errorf("send: %w", err), acl.ErrInvalid))
	assert.Equal(t, "acl: invalid message", acl.ErrInvalid.Error())
}

func TestNew(t *testing.T) {
	m := acl.New(acl.Request, "a", "b")
	assert.Equal(t, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"a", "b"}}, m)
	assert.Nil(t, acl.New(acl.Inform).Receivers)
}

func TestPriority(t *testing.T) {
	for _, tc := range []struct {
		p     acl.Priority
		s     string
		valid bool
	}{
		{acl.PriorityLow, "low", true},
		{acl.PriorityNormal, "normal", true},
		{acl.PriorityHigh, "high", true},
		{2, "priority(2)", false},
		{-2, "priority(-2)", false},
		{127, "priority(127)", false},
		{-128, "priority(-128)", false},
	} {
		t.Run(tc.s, func(t *testing.T) {
			assert.Equal(t, tc.s, tc.p.String())
			assert.Equal(t, tc.valid, tc.p.Valid())
			if tc.valid {
				p, err := acl.ParsePriority(tc.s)
				require.NoError(t, err)
				assert.Equal(t, tc.p, p)
			}
		})
	}
	assert.Equal(t, acl.Priority(0), acl.PriorityNormal)

	for in, want := range map[string]acl.Priority{"LOW": acl.PriorityLow, " High ": acl.PriorityHigh, "": acl.PriorityNormal, "Normal": acl.PriorityNormal} {
		p, err := acl.ParsePriority(in)
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want, p, "%q", in)
	}
	for _, in := range []string{"urgent", "1", "hi", "low-ish"} {
		p, err := acl.ParsePriority(in)
		assert.Equal(t, acl.Priority(0), p)
		requireFieldError(t, err, "priority")
	}
}

func TestClone(t *testing.T) {
	assert.Nil(t, (*acl.Message)(nil).Clone())

	orig := fullMessage()
	c := orig.Clone()
	require.Equal(t, orig, c)
	require.NotSame(t, orig, c)

	// The copy shares nothing mutable with the original.
	c.Receivers[0] = "changed"
	c.Content[0] = 'X'
	c.TraceContext["traceparent"] = "changed"
	c.Params["X-Tenant"] = "changed"
	assert.Equal(t, fullMessage(), orig)

	// Nil stays nil.
	empty := (&acl.Message{Performative: acl.Inform}).Clone()
	assert.Nil(t, empty.Receivers)
	assert.Nil(t, empty.Content)
	assert.Nil(t, empty.TraceContext)
	assert.Nil(t, empty.Params)
}

func TestSetParam(t *testing.T) {
	m := acl.New(acl.Inform, "a")
	_, ok := m.Param("X-a")
	assert.False(t, ok)

	require.NoError(t, m.SetParam("X-a", "1"))
	require.NoError(t, m.SetParam("x-B", ""))
	require.NoError(t, m.SetParam("X-a", "2"))
	assert.Equal(t, map[string]string{"X-a": "2", "x-B": ""}, m.Params)

	v, ok := m.Param("X-a")
	assert.True(t, ok)
	assert.Equal(t, "2", v)
	v, ok = m.Param("x-B")
	assert.True(t, ok)
	assert.Equal(t, "", v)
	_, ok = m.Param("x-a")
	assert.False(t, ok, "keys are case-sensitive")

	for _, key := range []string{"", "X", "X-", "a-b", "XX-a", "X-a b", "X-é", "X-a\n"} {
		t.Run(key, func(t *testing.T) {
			m := acl.New(acl.Inform, "a")
			requireFieldError(t, m.SetParam(key, "v"), "params")
			assert.Nil(t, m.Params, "a rejected key must not be stored")
		})
	}
}

func TestHasReceiver(t *testing.T) {
	m := acl.New(acl.Inform, "a", acl.Topic("t"))
	assert.True(t, m.HasReceiver("a"))
	assert.True(t, m.HasReceiver("topic:t"))
	assert.False(t, m.HasReceiver("t"))
	assert.False(t, m.HasReceiver(""))
	assert.False(t, acl.New(acl.Inform).HasReceiver("a"))
}

func TestMessageString(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  *acl.Message
		want string
	}{
		{"nil", nil, "<nil message>"},
		{"zero", &acl.Message{}, "performative(0) from= to= bytes=0"},
		{"one receiver", acl.New(acl.Inform, "b"), "inform from= to=b bytes=0"},
		{"full", fullMessage(), "request from=front-desk to=billing,sales,topic:audit conv=c-1 bytes=33"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.msg.String())
		})
	}

	// Content never appears, only its size.
	m := acl.New(acl.Inform, "b")
	m.Content = []byte("secret password")
	assert.Equal(t, "inform from= to=b bytes=15", m.String())
	m.Content = make([]byte, 1234567)
	assert.Equal(t, "inform from= to=b bytes=1234567", fmt.Sprint(m))
}
