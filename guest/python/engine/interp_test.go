package main

import (
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeHost records what a handler call does.
type fakeHost struct {
	sent  []*acl.Message
	logs  []string
	now   time.Time
	tools map[string]tool.Result
	args  []string
}

func (h *fakeHost) Send(m *acl.Message)       { h.sent = append(h.sent, m) }
func (h *fakeHost) Log(level int, msg string) { h.logs = append(h.logs, levelName(level)+" "+msg) }
func (h *fakeHost) Now() time.Time            { return h.now }
func (h *fakeHost) CallTool(name string, args any) tool.Result {
	b, _ := args.([]byte)
	h.args = append(h.args, string(b))
	if r, ok := h.tools[name]; ok {
		return r
	}
	return tool.Result{Status: tool.StatusDenied, Content: []byte("not granted"), Tool: name}
}

func levelName(l int) string {
	switch l {
	case guest.LevelDebug:
		return "DEBUG"
	case guest.LevelWarn:
		return "WARN"
	case guest.LevelError:
		return "ERROR"
	}
	return "INFO"
}

func request(content string) *acl.Message {
	return &acl.Message{Performative: acl.Request, Sender: "alice", Receivers: []acl.AgentID{"py"},
		ConversationID: "c1", ReplyWith: "r1", Language: "json", Content: []byte(content)}
}

func mustLoad(t *testing.T, src string) *interp {
	t.Helper()
	in, err := load(src)
	require.NoError(t, err)
	return in
}

func TestReplyWithJSONContent(t *testing.T) {
	in := mustLoad(t, `
def handle(msg, ctx):
    items = msg.content["items"]
    total = 0
    for i in items:
        total = total + i["price"] * i["qty"]
    ctx.reply("inform", {"total": total, "currency": "EUR"})
`)
	h := &fakeHost{}
	require.NoError(t, in.handle(request(`{"items":[{"price":2.5,"qty":4},{"price":1,"qty":3}]}`), h))
	require.Len(t, h.sent, 1)
	r := h.sent[0]
	assert.Equal(t, acl.Inform, r.Performative)
	assert.Equal(t, []acl.AgentID{"alice"}, r.Receivers)
	assert.Equal(t, "c1", r.ConversationID)
	assert.Equal(t, "r1", r.InReplyTo)
	assert.Equal(t, "json", r.Language)
	assert.JSONEq(t, `{"total":13,"currency":"EUR"}`, string(r.Content))
}

func errPermanentForTest() error { return guest.ErrPermanent }

// BenchmarkLoad is an instance's start-up work on the host: a fresh
// interpreter, the prelude and the echo script.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := load("def handle(msg, ctx):\n    ctx.reply('inform', msg.text)\n"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandle is one echo message on the host, without the sandbox.
func BenchmarkHandle(b *testing.B) {
	in, err := load("def handle(msg, ctx):\n    ctx.reply('inform', msg.text)\n")
	if err != nil {
		b.Fatal(err)
	}
	m := request("x")
	h := &fakeHost{}
	for b.Loop() {
		h.sent = h.sent[:0]
		if err := in.handle(m, h); err != nil {
			b.Fatal(err)
		}
	}
}

// msg.content is parsed when read: content that is not the JSON its
// language says fails only a handler that reads it.
func TestContentIsParsedWhenRead(t *testing.T) {
	in := mustLoad(t, "def handle(msg, ctx):\n    ctx.reply('inform', msg.text)\n")
	h := &fakeHost{}
	require.NoError(t, in.handle(request("not json"), h))
	assert.Equal(t, "not json", string(h.sent[0].Content))

	in = mustLoad(t, "def handle(msg, ctx):\n    ctx.reply('inform', msg.content['a'])\n")
	require.NoError(t, in.handle(request(`{"a":"b"}`), h))
	assert.Equal(t, "b", string(h.sent[1].Content))
	err := in.handle(request("not json"), h)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ValueError: invalid JSON")

	in = mustLoad(t, "def handle(msg, ctx):\n    ctx.reply('inform', msg.nope)\n")
	err = in.handle(request("{}"), h)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AttributeError")
}
