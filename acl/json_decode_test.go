package acl_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
)

func TestUnmarshalErrors(t *testing.T) {
	const p = `"performative":"inform"`
	for _, tc := range []struct {
		name   string
		doc    string
		field  string
		reason string // substring of the reason, if checked
	}{
		{"empty input", ``, "message", "malformed JSON"},
		{"whitespace only", "  \n", "message", "malformed JSON"},
		{"array", `[]`, "message", "expected a JSON object"},
		{"string", `"inform"`, "message", "expected a JSON object"},
		{"number", `42`, "message", "expected a JSON object"},
		{"null", `null`, "message", "expected a JSON object"},
		{"bool", `true`, "message", "expected a JSON object"},
		{"close brace", `}`, "message", "malformed JSON"},

		{"missing performative", `{"receiver":["a"]}`, "performative", "missing"},
		{"empty object", `{}`, "performative", "missing"},
		{"null performative", `{"performative":null}`, "performative", "missing"},
		{"unknown performative", `{"performative":"shout"}`, "performative", `unknown communicative act "shout"`},
		{"empty performative", `{"performative":""}`, "performative", "unknown communicative act"},
		{"numeric performative", `{"performative":8}`, "performative", "want a string: got JSON number"},

		{"unknown field", `{` + p + `,"bogus":1}`, "bogus", "unknown field"},
		{"field name is case-sensitive", `{` + p + `,"Sender":"a"}`, "Sender", "unknown field"},
		{"params object is not a field", `{` + p + `,"params":{"X-a":"b"}}`, "params", "unknown field"},
		{"empty key", `{` + p + `,"":1}`, "(empty name)", "empty name"},
		{"bare X-", `{` + p + `,"X-":"v"}`, "X-", "unknown field"},
		{"duplicate field", `{` + p + `,"sender":"a","sender":"b"}`, "sender", "appears twice"},
		{"duplicate performative", `{` + p + `,` + p + `}`, "performative", "appears twice"},
		{"duplicate via escape", `{` + p + `,"sender":"a","s\u0065nder":"b"}`, "sender", "appears twice"},
		{"duplicate null", `{` + p + `,"language":null,"language":null}`, "language", "appears twice"},
		{"duplicate param", `{` + p + `,"X-a":"1","X-a":"2"}`, "X-a", "appears twice"},

		{"receiver number", `{` + p + `,"receiver":5}`, "receiver", "want a string or an array of strings"},
		{"receiver object", `{` + p + `,"receiver":{"a":1}}`, "receiver", ""},
		{"receiver array of numbers", `{` + p + `,"receiver":["a",1]}`, "receiver", ""},
		{"receiver nested array", `{` + p + `,"receiver":[["a"]]}`, "receiver", ""},
		{"sender number", `{` + p + `,"sender":5}`, "sender", "want a string: got JSON number"},
		{"sender array", `{` + p + `,"sender":["a"]}`, "sender", "got JSON array"},
		{"reply_to bool", `{` + p + `,"reply_to":true}`, "reply_to", "got JSON bool"},
		{"id number", `{` + p + `,"id":1}`, "id", ""},
		{"language object", `{` + p + `,"language":{}}`, "language", ""},
		{"content number", `{` + p + `,"content":1}`, "content", ""},
		{"trace_context string", `{` + p + `,"trace_context":"x"}`, "trace_context", "want an object of strings"},
		{"trace_context number value", `{` + p + `,"trace_context":{"a":1}}`, "trace_context", ""},
		{"trace_context array", `{` + p + `,"trace_context":[]}`, "trace_context", ""},

		{"reply_by words", `{` + p + `,"reply_by":"tomorrow"}`, "reply_by", `want an RFC 3339 time, got "tomorrow"`},
		{"reply_by date only", `{` + p + `,"reply_by":"2026-11-22"}`, "reply_by", ""},
		{"reply_by no zone", `{` + p + `,"reply_by":"2026-11-22T10:00:00"}`, "reply_by", ""},
		{"created_at space separator", `{` + p + `,"created_at":"2026-11-22 10:00:00Z"}`, "created_at", ""},
		{"created_at unix number", `{` + p + `,"created_at":1795341600}`, "created_at", "want a string"},
		{"created_at month 13", `{` + p + `,"created_at":"2026-13-01T00:00:00Z"}`, "created_at", ""},

		{"bad base64 chars", `{` + p + `,"content_base64":"!!!!"}`, "content_base64", "illegal base64"},
		{"base64 missing padding", `{` + p + `,"content_base64":"AAA"}`, "content_base64", ""},
		{"base64 URL alphabet", `{` + p + `,"content_base64":"_-8="}`, "content_base64", ""},
		{"both content forms", `{` + p + `,"content":"a","content_base64":"YQ=="}`, "content", "both content and content_base64"},
		{"both content forms, empty", `{` + p + `,"content":"","content_base64":""}`, "content", "both"},

		{"priority unknown", `{` + p + `,"priority":"urgent"}`, "priority", `unknown priority "urgent"`},
		{"priority number", `{` + p + `,"priority":1}`, "priority", "want a string"},

		{"X- param number", `{` + p + `,"X-a":1}`, "X-a", "want a string: got JSON number"},
		{"X- param object", `{` + p + `,"X-a":{}}`, "X-a", "got JSON object"},
		{"X- param bool", `{` + p + `,"x-a":true}`, "x-a", ""},
		{"X- param bad name", `{` + p + `,"X-a b":"v"}`, "params", "invalid character"},

		{"trailing object", `{` + p + `} {}`, "message", "trailing data"},
		{"trailing garbage", `{` + p + `}x`, "message", "trailing data"},
		{"trailing bracket", `{` + p + `}]`, "message", "trailing data"},
		{"trailing string", `{` + p + `}"x"`, "message", "trailing data"},

		{"unterminated", `{` + p, "message", "malformed JSON"},
		{"unterminated after comma", `{` + p + `,`, "message", "malformed JSON"},
		{"trailing comma", `{` + p + `,}`, "message", "malformed JSON"},
		{"missing colon", `{"performative" "inform"}`, "message", "malformed JSON"},
		{"unquoted key", `{performative:"inform"}`, "message", "malformed JSON"},
		{"single quotes", `{'performative':'inform'}`, "message", "malformed JSON"},
		{"bad literal", `{` + p + `,"sender":nul}`, "message", "malformed JSON"},
		{"unterminated string", `{"performative":"inform}`, "message", "malformed JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := acl.Unmarshal([]byte(tc.doc))
			assert.Nil(t, m)
			fe := requireFieldError(t, err, tc.field)
			assert.Contains(t, fe.Reason, tc.reason)
		})
	}
}

func TestUnmarshalAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want *acl.Message
	}{
		{"minimal", `{"performative":"inform"}`, &acl.Message{Performative: acl.Inform}},
		{"surrounding whitespace", " \n\t{ \"performative\" : \"inform\" }\r\n ", &acl.Message{Performative: acl.Inform}},
		{"performative any case", `{"performative":" ACCEPT_proposal "}`, &acl.Message{Performative: acl.AcceptProposal}},
		{"receiver as a single string", `{"performative":"inform","receiver":"billing"}`,
			&acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"billing"}}},
		{"receiver array", `{"receiver":["a","topic:b"],"performative":"inform"}`,
			&acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"a", "topic:b"}}},
		{"receiver empty array", `{"performative":"inform","receiver":[]}`, &acl.Message{Performative: acl.Inform}},
		{"syntax only, no validation", `{"performative":"inform","sender":"a b","receiver":["",""]}`,
			&acl.Message{Performative: acl.Inform, Sender: "a b", Receivers: []acl.AgentID{"", ""}}},
		{"null fields are absent", `{"performative":"inform","id":null,"sender":null,"receiver":null,"reply_to":null,` +
			`"content":null,"content_base64":null,"language":null,"encoding":null,"ontology":null,"protocol":null,` +
			`"conversation_id":null,"reply_with":null,"in_reply_to":null,"reply_by":null,"created_at":null,` +
			`"priority":null,"trace_context":null,"X-a":null}`, &acl.Message{Performative: acl.Inform}},
		{"null content with base64", `{"performative":"inform","content":null,"content_base64":"AP8="}`,
			&acl.Message{Performative: acl.Inform, Content: []byte{0, 0xff}}},
		{"empty content", `{"performative":"inform","content":""}`, &acl.Message{Performative: acl.Inform}},
		{"empty base64", `{"performative":"inform","content_base64":""}`, &acl.Message{Performative: acl.Inform}},
		{"base64 of UTF-8", `{"performative":"inform","content_base64":"w6k="}`,
			&acl.Message{Performative: acl.Inform, Content: []byte("é")}},
		{"escaped content", `{"performative":"inform","content":"a\u0000\n\"\u00e9"}`,
			&acl.Message{Performative: acl.Inform, Content: []byte("a\x00\n\"é")}},
		{"priority", `{"performative":"inform","priority":"HIGH"}`, &acl.Message{Performative: acl.Inform, Priority: acl.PriorityHigh}},
		{"priority normal", `{"performative":"inform","priority":"normal"}`, &acl.Message{Performative: acl.Inform}},
		{"priority empty", `{"performative":"inform","priority":""}`, &acl.Message{Performative: acl.Inform}},
		{"time with offset becomes UTC", `{"performative":"inform","reply_by":"2026-11-22T11:00:00.5+01:00"}`,
			&acl.Message{Performative: acl.Inform, ReplyBy: fixedNow.Add(500 * time.Millisecond)}},
		{"params any case", `{"performative":"inform","x-lower":"1","X-Upper":"","X-a":"\u00e9"}`,
			&acl.Message{Performative: acl.Inform, Params: map[string]string{"x-lower": "1", "X-Upper": "", "X-a": "é"}}},
		{"trace context", `{"performative":"inform","trace_context":{"traceparent":"00-x","k":""}}`,
			&acl.Message{Performative: acl.Inform, TraceContext: map[string]string{"traceparent": "00-x", "k": ""}}},
		{"every string field", `{"performative":"inform","id":"01934BCD-EF01-7ABC-8DEF-0123456789AB","sender":"s","reply_to":"r","language":"l",` +
			`"encoding":"e","ontology":"o","protocol":"p","conversation_id":"c","reply_with":"w","in_reply_to":"n"}`,
			&acl.Message{Performative: acl.Inform, ID: acl.MustParseMessageID("01934bcd-ef01-7abc-8def-0123456789ab"), Sender: "s", ReplyTo: "r", Language: "l", Encoding: "e",
				Ontology: "o", Protocol: "p", ConversationID: "c", ReplyWith: "w", InReplyTo: "n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := acl.Unmarshal([]byte(tc.doc))
			require.NoError(t, err)
			assertSameMessage(t, tc.want, got)
		})
	}
}

func TestUnmarshalTimes(t *testing.T) {
	m, err := acl.Unmarshal([]byte(`{"performative":"inform",` +
		`"reply_by":"2026-11-22T05:00:00.000000001-05:00","created_at":"2026-11-22T10:00:00Z"}`))
	require.NoError(t, err)
	assert.Equal(t, time.UTC, m.ReplyBy.Location())
	assert.Equal(t, time.UTC, m.CreatedAt.Location())
	assert.True(t, m.ReplyBy.Equal(fixedNow.Add(time.Nanosecond)), "got %v", m.ReplyBy)
	assert.True(t, m.CreatedAt.Equal(fixedNow), "got %v", m.CreatedAt)
	assert.Equal(t, 1, m.ReplyBy.Nanosecond())
}

func TestUnmarshalLongValueTruncatedInError(t *testing.T) {
	long := strings.Repeat("9", 500)
	_, err := acl.Unmarshal([]byte(`{"performative":"inform","reply_by":"` + long + `"}`))
	fe := requireFieldError(t, err, "reply_by")
	assert.Contains(t, fe.Reason, strings.Repeat("9", 64)+"…")
	assert.NotContains(t, fe.Reason, strings.Repeat("9", 65))
}

func TestUnmarshalThenValidate(t *testing.T) {
	// Unmarshal checks syntax only; Validate catches the rest.
	m, err := acl.Unmarshal([]byte(`{"performative":"inform","receiver":["a","a"]}`))
	require.NoError(t, err)
	fe := requireFieldError(t, m.Validate(), "receiver")
	assert.Contains(t, fe.Reason, "duplicate")
}
