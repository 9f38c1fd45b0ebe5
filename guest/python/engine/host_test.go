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

// A message the script builds wrongly fails the handler with an error
// naming the field; nothing is sent.
func TestBadSendsNameTheField(t *testing.T) {
	tests := []struct{ name, call, want string }{
		{"unknown field", `ctx.send(performative="inform", receivers=["a"], colour="red")`, "TypeError: colour is not a message field"},
		{"bad performative", `ctx.send(performative="shout", receivers=["a"])`, "ValueError: message field performative"},
		{"receivers not a list", `ctx.send(performative="inform", receivers="a")`, "TypeError: message field receivers must be a list of str"},
		{"receiver not a str", `ctx.send(performative="inform", receivers=[1])`, "TypeError: message field receivers must hold str"},
		{"params of ints", `ctx.send(performative="inform", receivers=["a"], params={"X-A": 1})`, `message field params["X-A"] must be a str`},
		{"bad priority", `ctx.send(performative="inform", receivers=["a"], priority="urgent")`, "ValueError: message field priority"},
		{"content not JSON", `ctx.send(performative="inform", receivers=["a"], content=ctx)`, "is not JSON serializable"},
		{"send of a list", `ctx.send(["inform"])`, "TypeError: update takes a dict, not list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mustLoad(t, "def handle(msg, ctx):\n    "+tt.call+"\n")
			h := &fakeHost{}
			err := in.handle(request("{}"), h)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotErrorIs(t, err, guest.ErrPermanent)
			assert.Empty(t, h.sent)
			require.NotEmpty(t, h.logs)
			assert.Contains(t, h.logs[len(h.logs)-1], "WARN python: handle failed:")
		})
	}
}

// Every field a script can set reaches the message, and times go both
// ways as seconds and nanoseconds.
func TestSendSetsEveryField(t *testing.T) {
	in := mustLoad(t, `
def handle(msg, ctx):
    ctx.send({"performative": "propose", "receivers": ["a", "b"], "reply_to": "c"},
             language="fipa-sl", encoding="utf-8", ontology="o", protocol="p",
             conversation_id="cv", reply_with="rw", in_reply_to="irt", reply_by=msg.created_at + 1.5,
             priority="high", params={"X-K": "v"}, trace={"traceparent": "t"}, content=b"\x00\xff")
`)
	h := &fakeHost{}
	m := request("{}")
	m.CreatedAt = time.Unix(1_800_000_000, 0)
	require.NoError(t, in.handle(m, h))
	require.Len(t, h.sent, 1)
	got := h.sent[0]
	want := &acl.Message{Performative: acl.Propose, Receivers: []acl.AgentID{"a", "b"}, ReplyTo: "c",
		Language: "fipa-sl", Encoding: "utf-8", Ontology: "o", Protocol: "p", ConversationID: "cv",
		ReplyWith: "rw", InReplyTo: "irt", ReplyBy: time.Unix(1_800_000_001, 500_000_000).UTC(),
		Priority: acl.PriorityHigh, Params: map[string]string{"X-K": "v"},
		TraceContext: map[string]string{"traceparent": "t"}, Content: []byte{0, 0xff}}
	assert.Equal(t, want, got)
}

// call_tool returns the parsed result or raises ToolError with the status
// in its args; call_tool_raw never raises.
func TestToolCalls(t *testing.T) {
	in := mustLoad(t, `
def handle(msg, ctx):
    r = ctx.call_tool("add", {"a": 1, "b": [2]})
    try:
        ctx.call_tool("rm")
        ctx.reply("inform", "no error?")
    except ToolError as e:
        ctx.reply("inform", {"sum": r["sum"], "msg": str(e), "args": list(e.args)})
`)
	h := &fakeHost{tools: map[string]tool.Result{"add": {Content: []byte(`{"sum":3}`)}}}
	require.NoError(t, in.handle(request("{}"), h))
	require.Len(t, h.sent, 1)
	assert.JSONEq(t, `{"sum":3,"msg":"tool rm: denied: not granted","args":["tool rm: denied: not granted","rm","denied",2,"not granted"]}`,
		string(h.sent[0].Content))
	assert.Equal(t, []string{`{"a":1,"b":[2]}`, `{}`}, h.args)
}

// Logging: levels, print, and values written as JSON.
func TestLogs(t *testing.T) {
	in := mustLoad(t, `
def handle(msg, ctx):
    ctx.log("a", 1, {"k": [True, None]})
    ctx.debug("d")
    ctx.warn("w")
    ctx.error("e")
    print("p", 2.5)
`)
	h := &fakeHost{}
	require.NoError(t, in.handle(request("{}"), h))
	assert.Equal(t, []string{`INFO a 1 {"k":[true,null]}`, "DEBUG d", "WARN w", "ERROR e", "INFO p 2.5"}, h.logs)
}
