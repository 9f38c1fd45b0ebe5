package acl_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
)

// wireKeys decodes a wire document into a generic map.
func wireKeys(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var w map[string]any
	require.NoError(t, json.Unmarshal(data, &w), "output is not a JSON object: %s", data)
	return w
}

func TestJSONRoundTrip(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name  string
		msg   func() *acl.Message
		check func(t *testing.T, w map[string]any)
	}{
		{"minimal", func() *acl.Message { return acl.New(acl.Inform, "a") }, func(t *testing.T, w map[string]any) {
			assert.Equal(t, map[string]any{"performative": "inform", "receiver": []any{"a"}}, w)
		}},
		{"no receivers", func() *acl.Message { return &acl.Message{Performative: acl.Cancel} }, func(t *testing.T, w map[string]any) {
			assert.Equal(t, map[string]any{"performative": "cancel"}, w)
		}},
		{"full", fullMessage, func(t *testing.T, w map[string]any) {
			assert.Len(t, w, 19)
			assert.Equal(t, `{"invoice":42,"note":"café ☕"}`, w["content"])
			assert.NotContains(t, w, "content_base64")
			assert.Equal(t, "acme", w["X-Tenant"])
			assert.Equal(t, "2", w["x-retry"])
			assert.NotContains(t, w, "params")
		}},
		{"binary content", func() *acl.Message {
			m := acl.New(acl.Inform, "a")
			m.Content = []byte{0x00, 0xff, 0xfe, 0x80, 'a'}
			return m
		}, func(t *testing.T, w map[string]any) {
			assert.Equal(t, "AP/+gGE=", w["content_base64"])
			assert.NotContains(t, w, "content")
		}},
		{"truncated UTF-8 content", func() *acl.Message {
			m := acl.New(acl.Inform, "a")
			m.Content = []byte("caf\xc3")
			return m
		}, func(t *testing.T, w map[string]any) {
			assert.Equal(t, "Y2Fmww==", w["content_base64"])
		}},
		{"UTF-8 content with control characters", func() *acl.Message {
			m := acl.New(acl.Inform, "a")
			m.Content = []byte("line\n\ttab\x00nul <html> & \u2028 日本")
			return m
		}, func(t *testing.T, w map[string]any) {
			assert.Equal(t, "line\n\ttab\x00nul <html> & \u2028 日本", w["content"])
		}},
		{"params sorted at top level", func() *acl.Message {
			m := acl.New(acl.Inform, "a")
			require.NoError(t, m.SetParam("X-b", "2"))
			require.NoError(t, m.SetParam("X-a", "1 \"quoted\" é"))
			require.NoError(t, m.SetParam("x-C", ""))
			return m
		}, func(t *testing.T, w map[string]any) {
			assert.Equal(t, "1 \"quoted\" é", w["X-a"])
			assert.Equal(t, "", w["x-C"])
		}},
		{"priority low", func() *acl.Message {
			m := acl.New(acl.Inform, "a")
			m.Priority = acl.PriorityLow
			return m
		}, func(t *testing.T, w map[string]any) { assert.Equal(t, "low", w["priority"]) }},
		{"priority high", func() *acl.Message {
			m := acl.New(acl.Inform, "a")
			m.Priority = acl.PriorityHigh
			return m
		}, func(t *testing.T, w map[string]any) { assert.Equal(t, "high", w["priority"]) }},
		{"times with nanoseconds in a zone", func() *acl.Message {
			m := acl.New(acl.Propose, "a")
			m.ReplyBy = time.Date(2026, 11, 22, 11, 0, 0, 1, cet)
			m.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 999999999, cet)
			return m
		}, func(t *testing.T, w map[string]any) {
			assert.Equal(t, "2026-11-22T10:00:00.000000001Z", w["reply_by"])
			assert.Equal(t, "2026-01-02T02:04:05.999999999Z", w["created_at"])
		}},
		{"trace context", func() *acl.Message {
			m := acl.New(acl.Inform, "a")
			m.TraceContext = map[string]string{"traceparent": "00-abc-def-01", "tracestate": ""}
			return m
		}, func(t *testing.T, w map[string]any) {
			assert.Equal(t, map[string]any{"traceparent": "00-abc-def-01", "tracestate": ""}, w["trace_context"])
		}},
		{"every performative", func() *acl.Message {
			return &acl.Message{Performative: acl.RequestWhenever, Receivers: []acl.AgentID{acl.Topic("t"), "b"}}
		}, func(t *testing.T, w map[string]any) {
			assert.Equal(t, "request-whenever", w["performative"])
			assert.Equal(t, []any{"topic:t", "b"}, w["receiver"])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.msg()
			before := m.Clone()
			out, err := acl.Marshal(m)
			require.NoError(t, err)
			assert.Equal(t, before, m, "Marshal must not modify the message")
			tc.check(t, wireKeys(t, out))

			got, err := acl.Unmarshal(out)
			require.NoError(t, err, "decoding %s", out)
			assertSameMessage(t, m, got)
			if !m.CreatedAt.IsZero() {
				assert.Equal(t, time.UTC, got.CreatedAt.Location(), "decoded times are UTC")
			}

			again, err := acl.Marshal(got)
			require.NoError(t, err)
			assert.Equal(t, string(out), string(again), "output must be deterministic")
		})
	}
}

func TestJSONGolden(t *testing.T) {
	full := fullMessage()
	full.CreatedAt = time.Date(2026, 11, 22, 10, 59, 59, 123456789, time.FixedZone("CET", 3600))
	full.Params["X-A"] = "first"

	binary := acl.New(acl.Inform, "b")
	binary.Content = []byte{0x00, 0xff, 0xfe}
	binary.Priority = acl.PriorityLow

	html := &acl.Message{Performative: acl.QueryIf, Content: []byte("<a&b>"), Params: map[string]string{"X-h": "<&>"}}

	for _, tc := range []struct {
		name string
		msg  *acl.Message
		want string
	}{
		{"full", full, `{"id":"01934bcd-ef01-7abc-8def-0123456789ab","performative":"request",` +
			`"sender":"front-desk","receiver":["billing","sales","topic:audit"],"reply_to":"front-desk.replies",` +
			`"content":"{\"invoice\":42,\"note\":\"café ☕\"}","language":"json","encoding":"utf-8",` +
			`"ontology":"billing","protocol":"fipa-request","conversation_id":"c-1","reply_with":"r-1",` +
			`"in_reply_to":"r-0","reply_by":"2026-11-22T11:00:00Z","created_at":"2026-11-22T09:59:59.123456789Z",` +
			`"priority":"high","trace_context":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",` +
			`"tracestate":"congo=t61rcWkgMzE"},"X-A":"first","X-Tenant":"acme","x-retry":"2"}`},
		{"binary", binary, `{"performative":"inform","receiver":["b"],"content_base64":"AP/+","priority":"low"}`},
		{"html escaped", html, `{"performative":"query-if","content":"\u003ca\u0026b\u003e","X-h":"\u003c\u0026\u003e"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := acl.Marshal(tc.msg)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(out))

			viaStd, err := json.Marshal(tc.msg)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(viaStd), "json.Marshal must use the codec")

			got, err := acl.Unmarshal([]byte(tc.want))
			require.NoError(t, err)
			assertSameMessage(t, tc.msg, got)
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	_, err := acl.Marshal(nil)
	requireFieldError(t, err, "message")

	for _, tc := range []struct {
		name  string
		msg   *acl.Message
		field string
	}{
		{"zero performative", &acl.Message{Receivers: []acl.AgentID{"a"}}, "performative"},
		{"performative 99", &acl.Message{Performative: 99}, "performative"},
		{"priority 5", &acl.Message{Performative: acl.Inform, Priority: 5}, "priority"},
		{"param without X-", &acl.Message{Performative: acl.Inform, Params: map[string]string{"Custom": "v"}}, "params"},
		{"param with bad char", &acl.Message{Performative: acl.Inform, Params: map[string]string{"X-a b": "v"}}, "params"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := acl.Marshal(tc.msg)
			assert.Nil(t, out)
			requireFieldError(t, err, tc.field)

			// Through encoding/json the error is wrapped but still found.
			_, err = json.Marshal(tc.msg)
			require.Error(t, err)
			requireFieldError(t, err, tc.field)
		})
	}
}

func TestStdlibJSONUsesCodec(t *testing.T) {
	type envelope struct {
		Msg  *acl.Message   `json:"msg"`
		List []*acl.Message `json:"list"`
	}
	in := envelope{Msg: fullMessage(), List: []*acl.Message{acl.New(acl.Agree, "x"), nil}}
	out, err := json.Marshal(in)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"msg":{"id":"01934bcd-ef01-7abc-8def-0123456789ab","performative":"request",`)
	assert.Contains(t, string(out), `"list":[{"performative":"agree","receiver":["x"]},null]`)

	var back envelope
	require.NoError(t, json.Unmarshal(out, &back))
	assertSameMessage(t, in.Msg, back.Msg)
	require.Len(t, back.List, 2)
	assertSameMessage(t, in.List[0], back.List[0])
	assert.Nil(t, back.List[1])

	// Strictness survives: an unknown field inside the nested message fails.
	err = json.Unmarshal([]byte(`{"msg":{"performative":"inform","bogus":1}}`), &back)
	requireFieldError(t, err, "bogus")
}

func TestUnmarshalJSONResetsMessage(t *testing.T) {
	m := fullMessage()
	require.NoError(t, json.Unmarshal([]byte(`{"performative":"cfp","receiver":"z"}`), m))
	assertSameMessage(t, &acl.Message{Performative: acl.CFP, Receivers: []acl.AgentID{"z"}}, m)

	// Not an object: the message is left alone.
	m = fullMessage()
	requireFieldError(t, m.UnmarshalJSON([]byte(`[]`)), "message")
	assertSameMessage(t, fullMessage(), m)
}

// Times whose UTC form falls outside years 0001-9999 have no RFC 3339 text:
// Unmarshal rejects them and Marshal refuses to write them, so everything
// the codec writes it can read back.
func TestJSONTimeYearRange(t *testing.T) {
	for _, doc := range []string{
		`{"performative":"inform","reply_by":"9999-12-31T23:59:59-01:00"}`,
		`{"performative":"inform","created_at":"0000-01-01T00:00:00+01:00"}`,
		`{"performative":"inform","created_at":"0000-12-31T23:00:00Z"}`,
	} {
		_, err := acl.Unmarshal([]byte(doc))
		requireFieldError(t, err, strings.Split(doc, `"`)[5])
	}
	for _, tm := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err := acl.Marshal(&acl.Message{Performative: acl.Inform, CreatedAt: tm})
		requireFieldError(t, err, "created_at")
	}
	edge := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	out, err := acl.Marshal(&acl.Message{Performative: acl.Inform, ReplyBy: edge})
	require.NoError(t, err)
	back, err := acl.Unmarshal(out)
	require.NoError(t, err)
	assert.True(t, edge.Equal(back.ReplyBy))
}

// By the json.Unmarshaler convention UnmarshalJSON(null) is a no-op, so a
// JSON null for a Message-typed field decodes to the zero Message; a bare
// null handed to acl.Unmarshal is still not a message.
func TestUnmarshalJSONNullIsNoop(t *testing.T) {
	var doc struct {
		M acl.Message `json:"m"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"m":null}`), &doc))
	assert.Equal(t, acl.Message{}, doc.M)
	_, err := acl.Unmarshal([]byte(" null "))
	requireFieldError(t, err, "message")
}

// json.Marshal of a Message value (or a struct holding one) uses the codec,
// not Go field names.
func TestStdlibJSONMessageValue(t *testing.T) {
	m := acl.New(acl.Inform, "a")
	want, err := acl.Marshal(m)
	require.NoError(t, err)
	got, err := json.Marshal(*m)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
	back, err := acl.Unmarshal(got)
	require.NoError(t, err)
	assertSameMessage(t, m, back)
}
