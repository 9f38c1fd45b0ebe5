package acl_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
)

// fixedValidator validates with the clock stopped at fixedNow.
var fixedValidator = acl.Validator{Now: func() time.Time { return fixedNow }}

func TestValidateFullMessage(t *testing.T) {
	m := fullMessage()
	before := m.Clone()
	require.NoError(t, fixedValidator.Validate(m))
	assert.Equal(t, before, m, "Validate must not modify the message")

	// The zero Validator uses the wall clock: move reply_by into its future.
	m.ReplyBy = time.Now().Add(time.Hour)
	require.NoError(t, m.Validate())
	require.NoError(t, acl.Validator{}.Validate(m))

	// A minimal message is valid too: id, sender and the rest are optional.
	require.NoError(t, acl.New(acl.Inform, "billing").Validate())
}

func TestValidateNil(t *testing.T) {
	fe := requireFieldError(t, fixedValidator.Validate(nil), "message")
	assert.Equal(t, "nil", fe.Reason)
	requireFieldError(t, (*acl.Message)(nil).Validate(), "message")
}

type validateCase struct {
	name   string
	mutate func(m *acl.Message)
	field  string // "" when the mutated message is valid
	reason string // a substring of the reason, if checked
}

func validateCases() []validateCase {
	cases := []validateCase{
		{"missing performative", func(m *acl.Message) { m.Performative = 0 }, "performative", "missing"},
		{"performative 200", func(m *acl.Message) { m.Performative = 200 }, "performative", "invalid value 200"},
		{"performative 23", func(m *acl.Message) { m.Performative = 23 }, "performative", "invalid value 23"},
		{"every act", func(m *acl.Message) { m.Performative = acl.Subscribe }, "", ""},

		{"zero id", func(m *acl.Message) { m.ID = acl.MessageID{} }, "", ""},

		{"bad sender", func(m *acl.Message) { m.Sender = "front desk" }, "sender", "invalid character"},
		{"long sender", func(m *acl.Message) { m.Sender = acl.AgentID(strings.Repeat("s", 129)) }, "sender", "129 bytes"},
		{"topic sender", func(m *acl.Message) { m.Sender = acl.Topic("news") }, "sender", "is a topic"},
		{"empty topic sender", func(m *acl.Message) { m.Sender = "topic:" }, "sender", "empty name"},
		{"no sender", func(m *acl.Message) { m.Sender = "" }, "", ""},

		{"nil receivers", func(m *acl.Message) { m.Receivers = nil }, "receiver", "no receiver"},
		{"empty receivers", func(m *acl.Message) { m.Receivers = []acl.AgentID{} }, "receiver", "no receiver"},
		{"empty receiver", func(m *acl.Message) { m.Receivers = []acl.AgentID{""} }, "receiver", "empty"},
		{"bad second receiver", func(m *acl.Message) { m.Receivers = []acl.AgentID{"a", "b$"} }, "receiver", `"b$"`},
		{"duplicate receiver", func(m *acl.Message) { m.Receivers = []acl.AgentID{"a", "b", "a"} }, "receiver", `duplicate receiver "a"`},
		{"duplicate topic", func(m *acl.Message) { m.Receivers = []acl.AgentID{acl.Topic("t"), acl.Topic("t")} }, "receiver", "duplicate"},
		{"empty topic receiver", func(m *acl.Message) { m.Receivers = []acl.AgentID{"topic:"} }, "receiver", "empty name"},
		{"topic receiver", func(m *acl.Message) { m.Receivers = []acl.AgentID{acl.Topic("news")} }, "", ""},

		{"bad reply_to", func(m *acl.Message) { m.ReplyTo = "a\x00" }, "reply_to", "invalid character"},
		{"long reply_to", func(m *acl.Message) { m.ReplyTo = acl.AgentID(strings.Repeat("r", 129)) }, "reply_to", ""},
		{"topic reply_to", func(m *acl.Message) { m.ReplyTo = acl.Topic("replies") }, "", ""},

		{"content over default", func(m *acl.Message) { m.Content = make([]byte, acl.DefaultMaxContentSize+1) }, "content",
			"1048577 bytes, the limit is 1048576"},
		{"content at default", func(m *acl.Message) { m.Content = make([]byte, acl.DefaultMaxContentSize) }, "", ""},

		{"reply_by in the past", func(m *acl.Message) { m.ReplyBy = fixedNow.Add(-time.Nanosecond) }, "reply_by", "is not after now"},
		{"reply_by equal to now", func(m *acl.Message) { m.ReplyBy = fixedNow }, "reply_by", "is not after now"},
		{"reply_by equal to now, other zone", func(m *acl.Message) { m.ReplyBy = fixedNow.In(time.FixedZone("X", 7200)) }, "reply_by", ""},
		{"reply_by just after now", func(m *acl.Message) { m.ReplyBy = fixedNow.Add(time.Nanosecond) }, "", ""},
		{"no reply_by", func(m *acl.Message) { m.ReplyBy = time.Time{} }, "", ""},

		{"priority 2", func(m *acl.Message) { m.Priority = 2 }, "priority", "invalid value 2"},
		{"priority -2", func(m *acl.Message) { m.Priority = -2 }, "priority", "invalid value -2"},
		{"priority 127", func(m *acl.Message) { m.Priority = 127 }, "priority", ""},
		{"priority low", func(m *acl.Message) { m.Priority = acl.PriorityLow }, "", ""},

		{"param without X-", func(m *acl.Message) { m.Params = map[string]string{"Custom": "v"} }, "params", `"Custom"`},
		{"param X- only", func(m *acl.Message) { m.Params = map[string]string{"X-": "v"} }, "params", ""},
		{"param empty key", func(m *acl.Message) { m.Params = map[string]string{"": "v"} }, "params", ""},
		{"param Y-", func(m *acl.Message) { m.Params = map[string]string{"Y-a": "v"} }, "params", ""},
		{"param bad char", func(m *acl.Message) { m.Params = map[string]string{"X-a b": "v"} }, "params", "invalid character"},
		{"param value too long", func(m *acl.Message) {
			m.Params = map[string]string{"X-big": strings.Repeat("v", acl.DefaultMaxContentSize+1)}
		}, "params", `value of "X-big"`},
		{"param lowercase x-", func(m *acl.Message) { m.Params = map[string]string{"x-a": ""} }, "", ""},

		{"trace context empty key", func(m *acl.Message) { m.TraceContext = map[string]string{"": "v"} }, "trace_context", ""},
		{"trace context long key", func(m *acl.Message) { m.TraceContext = map[string]string{strings.Repeat("k", 257): "v"} }, "trace_context", ""},
		{"trace context long value", func(m *acl.Message) { m.TraceContext = map[string]string{"k": strings.Repeat("v", 1025)} }, "trace_context", ""},
		{"trace context limits", func(m *acl.Message) {
			m.TraceContext = map[string]string{strings.Repeat("k", 256): strings.Repeat("v", 1024)}
		}, "", ""},
	}

	// The free-form tokens: each rejects control characters and more than
	// 256 bytes, and accepts printable UTF-8 up to the limit.
	tokens := []struct {
		field string
		set   func(m *acl.Message, s string)
	}{
		{"language", func(m *acl.Message, s string) { m.Language = s }},
		{"encoding", func(m *acl.Message, s string) { m.Encoding = s }},
		{"ontology", func(m *acl.Message, s string) { m.Ontology = s }},
		{"protocol", func(m *acl.Message, s string) { m.Protocol = s }},
		{"conversation_id", func(m *acl.Message, s string) { m.ConversationID = s }},
		{"reply_with", func(m *acl.Message, s string) { m.ReplyWith = s }},
		{"in_reply_to", func(m *acl.Message, s string) { m.InReplyTo = s }},
	}
	for _, tok := range tokens {
		for _, v := range []struct {
			name, val, field, reason string
		}{
			{"NUL", "a\x00b", tok.field, "control character 0x00 at byte 1"},
			{"newline", "line\n", tok.field, "control character 0x0a at byte 4"},
			{"tab", "\tx", tok.field, "0x09"},
			{"escape", "\x1b[31m", tok.field, "0x1b"},
			{"DEL", "x\x7f", tok.field, "0x7f"},
			{"257 bytes", strings.Repeat("a", 257), tok.field, "257 bytes long, the limit is 256"},
			{"256 bytes", strings.Repeat("a", 256), "", ""},
			{"empty", "", "", ""},
			{"printable UTF-8", "café ☕ with spaces ~!", "", ""},
		} {
			set := tok.set
			cases = append(cases, validateCase{
				name:   tok.field + " " + v.name,
				mutate: func(m *acl.Message) { set(m, v.val) },
				field:  v.field,
				reason: v.reason,
			})
		}
	}
	return cases
}

func TestValidateFields(t *testing.T) {
	for _, tc := range validateCases() {
		t.Run(tc.name, func(t *testing.T) {
			m := fullMessage()
			tc.mutate(m)
			err := fixedValidator.Validate(m)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			fe := requireFieldError(t, err, tc.field)
			assert.Contains(t, fe.Reason, tc.reason)
			assert.Equal(t, "acl: field "+tc.field+": "+fe.Reason, err.Error())
		})
	}
}

func TestValidateMaxContentSize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
		size  int
		ok    bool
	}{
		{"under custom limit", 10, 9, true},
		{"at custom limit", 10, 10, true},
		{"over custom limit", 10, 11, false},
		{"custom limit above default", 2 << 20, 2 << 20, true},
		{"zero means default, at default", 0, acl.DefaultMaxContentSize, true},
		{"zero means default, over default", 0, acl.DefaultMaxContentSize + 1, false},
		{"negative means unlimited", -1, 3 << 20, true},
		{"very negative means unlimited", -1 << 30, 2 << 20, true},
		{"empty content", 1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := acl.Validator{MaxContentSize: tc.limit, Now: fixedValidator.Now}
			m := fullMessage()
			m.Content = make([]byte, tc.size)
			err := v.Validate(m)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			requireFieldError(t, err, "content")
		})
	}
	assert.Equal(t, 1<<20, acl.DefaultMaxContentSize)
}

func TestValidateUsesClock(t *testing.T) {
	m := fullMessage()
	m.ReplyBy = fixedNow.Add(time.Minute)

	calls := 0
	v := acl.Validator{Now: func() time.Time { calls++; return fixedNow.Add(2 * time.Minute) }}
	fe := requireFieldError(t, v.Validate(m), "reply_by")
	assert.Equal(t, 1, calls)
	assert.Contains(t, fe.Reason, "2026-11-22T10:01:00Z is not after now (2026-11-22T10:02:00Z)")

	// Without reply_by the clock is not consulted.
	m.ReplyBy = time.Time{}
	require.NoError(t, v.Validate(m))
	assert.Equal(t, 1, calls)

	// The zero Validator uses the wall clock.
	m.ReplyBy = time.Now().Add(-time.Second)
	requireFieldError(t, m.Validate(), "reply_by")
}

func TestValidateReportsFirstBadField(t *testing.T) {
	m := &acl.Message{
		Sender:    "bad sender",
		ReplyTo:   "bad reply",
		Language:  "\x00",
		Priority:  9,
		Receivers: nil,
	}
	requireFieldError(t, fixedValidator.Validate(m), "performative")
	m.Performative = acl.Inform
	requireFieldError(t, fixedValidator.Validate(m), "sender")
	m.Sender = "ok"
	requireFieldError(t, fixedValidator.Validate(m), "receiver")
	m.Receivers = []acl.AgentID{"r"}
	requireFieldError(t, fixedValidator.Validate(m), "reply_to")
	m.ReplyTo = ""
	requireFieldError(t, fixedValidator.Validate(m), "language")
	m.Language = ""
	requireFieldError(t, fixedValidator.Validate(m), "priority")
	m.Priority = acl.PriorityNormal
	require.NoError(t, fixedValidator.Validate(m))
}

func TestValidatorCanLeaveReceiverNamesToTheRouter(t *testing.T) {
	m := &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"bad name"}}
	requireFieldError(t, acl.Validator{}.Validate(m), "receiver")
	require.NoError(t, acl.Validator{SkipReceiverNames: true}.Validate(m))
	m.Receivers = []acl.AgentID{"a", "a"}
	requireFieldError(t, acl.Validator{SkipReceiverNames: true}.Validate(m), "receiver")
}

func TestManyReceiversAreCheckedQuicklyAndCapped(t *testing.T) {
	m := &acl.Message{Performative: acl.Inform}
	for i := range acl.MaxReceivers {
		m.Receivers = append(m.Receivers, acl.AgentID(fmt.Sprintf("agent-%d", i)))
	}
	require.NoError(t, m.Validate())
	m.Receivers[acl.MaxReceivers-1] = "agent-3"
	requireFieldError(t, m.Validate(), "receiver")
	m.Receivers[acl.MaxReceivers-1] = "agent-last"
	m.Receivers = append(m.Receivers, "one-too-many")
	requireFieldError(t, m.Validate(), "receiver")
}
