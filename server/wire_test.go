package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/acl/fipastring"
	"github.com/caxton-go/caxton/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spawnRecorder spawns a native agent that answers every request with
// an inform whose content is what it got, and hands each message to got.
func spawnRecorder(t *testing.T, rt *caxton.Runtime, name acl.AgentID) <-chan *acl.Message {
	t.Helper()
	got := make(chan *acl.Message, 16)
	require.NoError(t, rt.Spawn(t.Context(), caxton.AgentSpec{Name: name,
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			m := mc.Message()
			got <- m.Clone()
			if m.Performative == acl.Request {
				return mc.Reply(ctx, acl.Inform, m.Content)
			}
			return nil
		})}))
	return got
}

// TestGatewayAcceptsTheDocumentedJSONForms posts the architecture
// documents' message shapes as written — object-valued content and the
// simplified {type, from, to} form — and checks what the agent receives.
func TestGatewayAcceptsTheDocumentedJSONForms(t *testing.T) {
	f := newFixture(t, nil)
	got := spawnRecorder(t, f.rt, "weather")
	for _, tc := range []struct {
		name, body        string
		content, language string
		sender            acl.AgentID
	}{
		{"simplified with object content",
			`{"type": "inform", "to": "weather", "content": {"city": "Oslo", "days": [1, 2]}}`,
			`{"city":"Oslo","days":[1,2]}`, "json", "host"},
		{"strict with object content", `{"performative": "inform", "receiver": ["weather"], "content": {"text": "hi"}}`,
			`{"text":"hi"}`, "json", "host"},
		{"object content keeps a given language", `{"type": "inform", "to": "weather", "language": "application/json", "content": [1]}`,
			`[1]`, "application/json", "host"},
		{"number content", `{"type": "inform", "to": "weather", "content": 42}`, `42`, "json", "host"},
		{"string content stays text", `{"type": "inform", "to": "weather", "content": "plain"}`, "plain", "", "host"},
		{"from names the caller itself", `{"type": "inform", "from": "olga", "to": "weather", "content": "x"}`, "x", "", "olga"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.ok(http.StatusAccepted, nil, "POST", "/v1/messages", operatorToken, tc.body)
			m := <-got
			assert.Equal(t, tc.content, string(m.Content))
			assert.Equal(t, tc.language, m.Language)
			assert.Equal(t, tc.sender, m.Sender)
			assert.Equal(t, acl.Inform, m.Performative)
		})
	}

	// A request in the simplified form gets its reply.
	var reply struct {
		Performative string `json:"performative"`
		Content      string `json:"content"`
	}
	f.ok(http.StatusOK, &reply, "POST", "/v1/requests?timeout=20s", operatorToken,
		`{"type": "request", "from": "olga", "to": "weather", "content": {"action": "forecast"}, "conversation_id": "c-1"}`)
	assert.Equal(t, "inform", reply.Performative)
	assert.JSONEq(t, `{"action":"forecast"}`, reply.Content)
	<-got

	for _, tc := range []struct{ name, body, field string }{
		{"alias and field together", `{"type": "inform", "performative": "inform", "to": "weather"}`, "performative"},
		{"to and receiver together", `{"type": "inform", "to": "weather", "receiver": "weather"}`, "receiver"},
		{"from someone else", `{"type": "inform", "from": "weather", "to": "weather"}`, "from"},
		{"sender someone else", `{"performative": "inform", "sender": "alice", "receiver": "weather"}`, "sender"},
		{"bad type named as written", `{"type": "shout", "to": "weather"}`, "type"},
		{"bad to named as written", `{"type": "inform", "to": 7}`, "to"},
		{"no receiver", `{"type": "inform", "content": {}}`, "receiver"},
		{"content twice", `{"type": "inform", "to": "weather", "content": {}, "content": "x"}`, "content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.problem(http.StatusBadRequest, "POST", "/v1/messages", operatorToken, tc.body)
			assert.Equal(t, tc.field, p.Field, "%+v", p)
		})
	}
	// The scope still holds for the simplified form.
	p := f.problem(http.StatusForbidden, "POST", "/v1/messages", scopedToken, `{"type": "inform", "to": "weather"}`)
	assert.Contains(t, p.Detail, "weather")
}

// TestGatewaySpeaksFIPAString sends a FIPA ACL string message and asks
// for the reply in the same form, as a JADE-era system would.
func TestGatewaySpeaksFIPAString(t *testing.T) {
	f := newFixture(t, nil)
	got := spawnRecorder(t, f.rt, "weather")
	post := func(path, ct, accept, body string) (*http.Response, []byte) {
		req, err := http.NewRequestWithContext(t.Context(), "POST", f.url+path, bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+operatorToken)
		req.Header.Set("Content-Type", ct)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}

	resp, body := post("/v1/requests?timeout=20s", server.FIPAContentType, server.FIPAContentType,
		`(request :receiver (set (agent-identifier :name weather)) :content "forecast for Oslo" :conversation-id c-7 :language fipa-sl)`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, server.FIPAContentType, resp.Header.Get("Content-Type"))
	reply, err := fipastring.Unmarshal(body)
	require.NoError(t, err, "%s", body)
	assert.Equal(t, acl.Inform, reply.Performative)
	assert.Equal(t, "forecast for Oslo", string(reply.Content))
	assert.Equal(t, "c-7", reply.ConversationID)
	m := <-got
	assert.Equal(t, "fipa-sl", m.Language)
	assert.Equal(t, acl.AgentID("host"), m.Sender)

	// JSON in, FIPA string out is fine too; the default answer is JSON.
	resp, body = post("/v1/requests?timeout=20s", "application/json", "", `{"type":"request","to":"weather","content":"json"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	<-got

	resp, body = post("/v1/messages", server.FIPAContentType+"; charset=utf-8", "",
		`(inform :receiver (set (agent-identifier :name weather)) :content "fyi")`)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "%s", body)
	assert.Equal(t, "fyi", string((<-got).Content))

	for _, tc := range []struct {
		name, ct, body string
		status         int
		field          string
	}{
		{"malformed s-expression", server.FIPAContentType, `(inform :receiver`, 400, "message"},
		{"sender not yours", server.FIPAContentType, `(inform :sender (agent-identifier :name weather) :receiver (set (agent-identifier :name weather)))`, 400, "sender"},
		{"unknown media type", "text/plain", `hello`, 415, "Content-Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post("/v1/messages", tc.ct, "", tc.body)
			require.Equal(t, tc.status, resp.StatusCode, "%s", body)
			assert.Equal(t, server.ProblemContentType, resp.Header.Get("Content-Type"))
			assert.Contains(t, string(body), `"field":"`+tc.field+`"`)
		})
	}
}
