package acl_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
)

// requireFieldError asserts that err wraps acl.ErrInvalid and is (or wraps)
// a *acl.FieldError naming field. It returns the FieldError.
func requireFieldError(t testing.TB, err error, field string) *acl.FieldError {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, acl.ErrInvalid)
	var fe *acl.FieldError
	require.True(t, errors.As(err, &fe), "error %v (%T) is not a *acl.FieldError", err, err)
	require.Equal(t, field, fe.Field, "wrong field in %q", err.Error())
	require.NotEmpty(t, fe.Reason)
	return fe
}

// normalized returns a copy of m in which empty slices and maps are nil and
// the two times are zeroed (they are compared separately with Equal).
func normalized(m *acl.Message) *acl.Message {
	c := m.Clone()
	if len(c.Receivers) == 0 {
		c.Receivers = nil
	}
	if len(c.Content) == 0 {
		c.Content = nil
	}
	if len(c.TraceContext) == 0 {
		c.TraceContext = nil
	}
	if len(c.Params) == 0 {
		c.Params = nil
	}
	c.ReplyBy, c.CreatedAt = time.Time{}, time.Time{}
	return c
}

// assertSameMessage compares two messages field by field: times with Equal,
// nil and empty slices and maps as the same.
func assertSameMessage(t helperT, want, got *acl.Message) bool {
	t.Helper()
	if want == nil || got == nil {
		return assert.Equal(t, want, got)
	}
	ok := assert.True(t, want.ReplyBy.Equal(got.ReplyBy), "reply_by: want %v, got %v", want.ReplyBy, got.ReplyBy)
	ok = assert.True(t, want.CreatedAt.Equal(got.CreatedAt), "created_at: want %v, got %v", want.CreatedAt, got.CreatedAt) && ok
	return assert.Equal(t, normalized(want), normalized(got)) && ok
}

// helperT is what assertSameMessage needs of a *testing.T.
type helperT interface {
	assert.TestingT
	Helper()
}

// recorder is a helperT that only records whether a check failed.
type recorder struct{ failed bool }

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

// fixedNow is the clock of the tests that need one.
var fixedNow = time.Date(2026, time.November, 22, 10, 0, 0, 0, time.UTC)

// fullMessage returns a message with every field set, valid for a
// Validator whose clock says fixedNow.
func fullMessage() *acl.Message {
	return &acl.Message{
		ID:             acl.MustParseMessageID("01934bcd-ef01-7abc-8def-0123456789ab"),
		Performative:   acl.Request,
		Sender:         "front-desk",
		Receivers:      []acl.AgentID{"billing", "sales", acl.Topic("audit")},
		ReplyTo:        "front-desk.replies",
		Content:        []byte(`{"invoice":42,"note":"café ☕"}`),
		Language:       "json",
		Encoding:       "utf-8",
		Ontology:       "billing",
		Protocol:       "fipa-request",
		ConversationID: "c-1",
		ReplyWith:      "r-1",
		InReplyTo:      "r-0",
		ReplyBy:        fixedNow.Add(time.Hour),
		CreatedAt:      fixedNow.Add(-time.Second),
		Priority:       acl.PriorityHigh,
		TraceContext: map[string]string{
			"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			"tracestate":  "congo=t61rcWkgMzE",
		},
		Params: map[string]string{"X-Tenant": "acme", "x-retry": "2"},
	}
}

func TestHelpersDetectDifferences(t *testing.T) {
	// The comparison helper must itself be able to fail.
	a, b := fullMessage(), fullMessage()
	b.CreatedAt = b.CreatedAt.Add(time.Nanosecond)
	r := &recorder{}
	assert.False(t, assertSameMessage(r, a, b))
	assert.True(t, r.failed)

	b = fullMessage()
	b.Params["X-Tenant"] = "other"
	r = &recorder{}
	assert.False(t, assertSameMessage(r, a, b))
	assert.True(t, r.failed)

	// Same instant in another zone, nil vs empty map: equal.
	b = fullMessage()
	b.CreatedAt = b.CreatedAt.In(time.FixedZone("X", 3600))
	b.TraceContext, a.TraceContext = nil, map[string]string{}
	r = &recorder{}
	assert.True(t, assertSameMessage(r, a, b))
	assert.False(t, r.failed)
}
