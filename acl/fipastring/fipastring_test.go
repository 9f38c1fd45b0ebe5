package fipastring_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/acl/fipastring"
)

func TestFIPAStringJADEMessage(t *testing.T) {
	// As a JADE agent writes it (addresses included).
	in := `(QUERY-REF
 :sender  ( agent-identifier :name da0@foo.com:1099/JADE  :addresses (sequence http://foo.com:7778/acc ))
 :receiver  (set ( agent-identifier :name df@foo.com:1099/JADE ) (agent-identifier :name "quoted-name"))
 :content  "((iota ?x (p ?x)))"
 :language  fipa-sl0  :ontology  FIPA-Agent-Management  :protocol  fipa-request
 :conversation-id  C1234 :reply-with R99 :reply-by 20991122T100000123Z
 :X-JADE-ENCODING "ascii")`
	m, err := fipastring.Unmarshal([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, acl.QueryRef, m.Performative)
	assert.Equal(t, acl.AgentID("da0@foo.com:1099/JADE"), m.Sender)
	assert.Equal(t, []acl.AgentID{"df@foo.com:1099/JADE", "quoted-name"}, m.Receivers)
	assert.Equal(t, "((iota ?x (p ?x)))", string(m.Content))
	assert.Equal(t, "fipa-sl0", m.Language)
	assert.Equal(t, "FIPA-Agent-Management", m.Ontology)
	assert.Equal(t, "C1234", m.ConversationID)
	assert.Equal(t, time.Date(2099, 11, 22, 10, 0, 0, 123e6, time.UTC), m.ReplyBy)
	assert.Equal(t, map[string]string{"X-JADE-ENCODING": "ascii"}, m.Params)
	require.NoError(t, m.Validate())
}

func TestFIPAStringRoundTrip(t *testing.T) {
	full := acl.New(acl.Propose, "b", "c")
	full.ID = acl.NewID()
	full.Sender, full.ReplyTo = "a", "a-replies"
	full.Content = []byte("say \"hi\" \\ (twice)\nplease")
	full.Language, full.Encoding, full.Ontology, full.Protocol = "json", "utf-8", "shop", "fipa-contract-net"
	full.ConversationID, full.ReplyWith, full.InReplyTo = "c 1", "r-1", "r-0"
	full.ReplyBy = time.Date(2026, 12, 5, 16, 0, 0, 5e6, time.UTC)
	full.CreatedAt = time.Date(2026, 12, 5, 15, 59, 0, 0, time.UTC)
	full.Priority = acl.PriorityHigh
	full.TraceContext = map[string]string{"traceparent": "00-abc-def-01"}
	full.Params = map[string]string{"X-custom": "v w"}
	binary := acl.New(acl.Inform, "b")
	binary.Content = []byte{0, 0xff, '"', ')', 'x'}
	for name, m := range map[string]*acl.Message{"full": full, "binary content": binary, "minimal": acl.New(acl.Cancel)} {
		t.Run(name, func(t *testing.T) {
			b, err := fipastring.Marshal(m)
			require.NoError(t, err)
			got, err := fipastring.Unmarshal(b)
			require.NoError(t, err, "%s", b)
			assert.Equal(t, m, got, "%s", b)
		})
	}
}

func TestFIPAStringRefusals(t *testing.T) {
	for _, tc := range []struct{ in, field string }{
		{`(shout :receiver (set (agent-identifier :name a)))`, "performative"},
		{`(inform :color blue)`, "color"},
		{`(inform :content "a" :content "b")`, "content"},
		{`(inform :reply-by tomorrow)`, "reply-by"},
		{`(inform :reply-by 20261340T000000000Z)`, "reply-by"},
		{`(inform :sender bob)`, "sender"},
		{`(inform :receiver (agent-identifier :name a))`, "receiver"},
		{`(inform :receiver (set (agent-identifier :nom a)))`, "receiver"},
		{`(inform :content "unterminated)`, "message"},
		{`(inform :content #99"short")`, "message"},
		{`(inform) (inform)`, "message"},
		{`(inform :content)`, "message"},
		{`(inform :X-caxton-id nope)`, "X-caxton-id"},
		{`(inform :content (a b))`, "content"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := fipastring.Unmarshal([]byte(tc.in))
			var fe *acl.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
			assert.ErrorIs(t, err, acl.ErrInvalid)
		})
	}
	deep := make([]byte, 0, 200)
	deep = append(deep, "(inform :content "...)
	for range 100 {
		deep = append(deep, '(')
	}
	_, err := fipastring.Unmarshal(deep)
	require.ErrorIs(t, err, acl.ErrInvalid)
}

// FuzzUnmarshalString: the decoder never panics, and what it accepts
// encodes and decodes to the same message.
func FuzzUnmarshalString(f *testing.F) {
	for _, s := range []string{
		`(inform :receiver (set (agent-identifier :name a)) :content "x")`,
		`(request :sender (agent-identifier :name s :addresses (sequence http://h)) :content #3"a\"b" :X-a "1")`,
		`(cfp :reply-by 20261122T100000000Z :X-caxton-priority high :X-caxton-trace-traceparent "00-1")`,
		`(agree :in-reply-to r :reply-to (set (agent-identifier :name "a b")))`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := fipastring.Unmarshal(b)
		if err != nil {
			return
		}
		out, err := fipastring.Marshal(m)
		if err != nil {
			return // decodable but not representable (a parameter name we do not write)
		}
		back, err := fipastring.Unmarshal(out)
		require.NoError(t, err, "%s", out)
		require.Equal(t, m, back, "%s", out)
	})
}
