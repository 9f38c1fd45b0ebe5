package micro_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest/python/micro"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roomy gives start-up and every batch a deadline that only a hung guest
// meets, even on a loaded machine (the default is 1 s).
var roomy = sandbox.Limits{BatchDeadline: time.Minute}

// module is the engine compiled once for every test.
var module = sync.OnceValues(func() (*sandbox.Module, error) {
	eng, err := sandbox.NewEngine()
	if err != nil {
		return nil, err
	}
	return eng.Compile(context.Background(), micro.Engine())
})

// start runs script in a fresh instance of the engine, with the tool add
// (answers 3) granted and everything else denied.
func start(t *testing.T, script string) *sandbox.Instance {
	t.Helper()
	mod, err := module()
	require.NoError(t, err)
	in, err := mod.Instantiate(t.Context(), sandbox.InstanceConfig{
		Agent:  "py",
		Limits: roomy,
		Init:   []byte(script),
		Tools: func(_ context.Context, name string, _ []byte) (tool.Status, []byte) {
			if name == "add" {
				return tool.StatusOK, []byte("3")
			}
			return tool.StatusDenied, []byte("not granted")
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = in.Close() })
	return in
}

func agent(t *testing.T, name string) *sandbox.Instance {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "agents", name+".py"))
	require.NoError(t, err)
	return start(t, string(b))
}

func text(p acl.Performative, content string) *acl.Message {
	return &acl.Message{Performative: p, Sender: "alice", Receivers: []acl.AgentID{"py"}, Content: []byte(content)}
}

func handle(t *testing.T, in *sandbox.Instance, m *acl.Message) []*acl.Message {
	t.Helper()
	out, err := in.Handle(t.Context(), []*acl.Message{m})
	require.NoError(t, err)
	return out
}

func TestAgentsAnswerAsTheirRolesSay(t *testing.T) {
	tests := []struct {
		agent string
		in    *acl.Message
		perf  acl.Performative
		out   string
	}{
		{"echo", text(acl.Request, "hi"), acl.Inform, "hi"},
		{"echo", text(acl.Request, "\xff\x00"), acl.Inform, "\xff\x00"},
		{"worker", text(acl.Request, "x"), acl.Inform, "done:x"},
		{"worker", text(acl.Inform, "x"), acl.NotUnderstood, "inform"},
		{"mirror", text(acl.Request, "x"), acl.Request, "x"},
		{"probe", text(acl.Request, "hello"), acl.Inform, "ok:hello"},
		{"probe", text(acl.Request, "log:note"), acl.Inform, "logged"},
		{"probe", text(acl.Request, "grow:2"), acl.Inform, "grew"},
		{"probe", text(acl.Request, `tool:add:{"a":1}`), acl.Inform, "0:3"},
		{"probe", text(acl.Request, `tool:rm:{}`), acl.Inform, "2:not granted"},
	}
	for _, tt := range tests {
		t.Run(tt.agent+"/"+tt.in.Performative.String()+"/"+string(tt.in.Content), func(t *testing.T) {
			out := handle(t, agent(t, tt.agent), tt.in)
			require.Len(t, out, 1)
			assert.Equal(t, tt.perf, out[0].Performative)
			assert.Equal(t, tt.out, string(out[0].Content))
		})
	}
}

func TestCounterCountsAcrossCalls(t *testing.T) {
	in := agent(t, "counter")
	var out []*acl.Message
	for range 3 {
		out = handle(t, in, text(acl.Request, ""))
	}
	require.Len(t, out, 1)
	assert.Equal(t, "3", string(out[0].Content))
}

func TestProbeFailures(t *testing.T) {
	in := agent(t, "probe")
	_, err := in.Handle(t.Context(), []*acl.Message{text(acl.Request, "fail")})
	var se *sandbox.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sandbox.KindGuestFailed, se.Kind)
	_, err = in.Handle(t.Context(), []*acl.Message{text(acl.Request, "fatal")})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sandbox.KindGuestPermanent, se.Kind)
	// The instance still works after both.
	out := handle(t, in, text(acl.Request, "again"))
	require.Len(t, out, 1)
	assert.Equal(t, "ok:again", string(out[0].Content))
}

func TestBidderProposesRefusesAndExecutes(t *testing.T) {
	in := agent(t, "bidder")
	cfp := &acl.Message{Performative: acl.CFP, Sender: "buyer", Receivers: []acl.AgentID{"py"}, ConversationID: "c",
		Content: []byte(`{"name":"job","kind":"text","size":4}`)}
	out := handle(t, in, cfp)
	require.Len(t, out, 1)
	assert.Equal(t, acl.Propose, out[0].Performative)
	assert.JSONEq(t, `{"cost":4}`, string(out[0].Content))
	accept := &acl.Message{Performative: acl.AcceptProposal, Sender: "buyer", Receivers: []acl.AgentID{"py"}, ConversationID: "c"}
	out = handle(t, in, accept)
	require.Len(t, out, 1)
	assert.Equal(t, acl.Inform, out[0].Performative)
	assert.Equal(t, "job: 4 units done by a Python agent for 4.00", string(out[0].Content))

	video := *cfp
	video.ConversationID, video.Content = "v", []byte(`{"name":"film","kind":"video","size":1}`)
	out = handle(t, in, &video)
	require.Len(t, out, 1)
	assert.Equal(t, acl.Refuse, out[0].Performative)
	assert.Equal(t, "no GPU in this sandbox", string(out[0].Content))

	bad := *cfp
	bad.ConversationID, bad.Content = "b", []byte(`nope`)
	out = handle(t, in, &bad)
	require.Len(t, out, 1)
	assert.Equal(t, acl.NotUnderstood, out[0].Performative)
}

func TestScriptsThatDoNotLoadFailWithTheirError(t *testing.T) {
	tests := []struct{ name, script, want string }{
		{"syntax", "def handle(msg, ctx)\n", "SyntaxError"},
		{"no handle", "x = 1\n", "the script defines no handle"},
		{"raises", "raise ValueError('no config')\n", "ValueError: no config"},
	}
	mod, err := module()
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mod.Instantiate(t.Context(), sandbox.InstanceConfig{Agent: "py", Limits: roomy, Init: []byte(tt.script)})
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sandbox.KindInitFailed, se.Kind)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// Exceptions caught inside a loop, deep recursion and garbage collected
// while Python objects live only in WebAssembly locals: the three things
// nlr.c does for MicroPython.
func TestExceptionsRecursionAndCollection(t *testing.T) {
	in := start(t, `
def deep(n):
    if n == 0:
        raise KeyError("bottom")
    return deep(n - 1)

def handle(msg, ctx):
    caught = 0
    for i in range(200):
        try:
            deep(i % 20)
        except KeyError:
            caught += 1
    # Allocate well past the collector's threshold, keeping some of it.
    keep = []
    for i in range(20000):
        s = "item %d" % i
        if i % 1000 == 0:
            keep.append(s)
    total = 0
    for s in keep:
        total += len(s)
    try:
        def forever(n):
            return forever(n + 1)
        forever(0)
    except RuntimeError as e:
        ctx.reply("inform", "%d %d %d %s" % (caught, len(keep), total, e))
`)
	for range 3 {
		out := handle(t, in, text(acl.Request, "go"))
		require.Len(t, out, 1)
		assert.Equal(t, "200 20 187 maximum recursion depth exceeded", string(out[0].Content))
	}
}

func TestJSONRoundTrips(t *testing.T) {
	in := start(t, `
import json
def handle(msg, ctx):
    v = json.loads(msg.text)
    ctx.reply("inform", v)
`)
	m := text(acl.Request, `{"a":[1,2.5,"x\u00e9\ud83d\ude00",true,false,null],"b":{"c":-7}}`)
	out := handle(t, in, m)
	require.Len(t, out, 1)
	assert.Equal(t, "json", out[0].Language)
	assert.JSONEq(t, `{"a":[1,2.5,"xé😀",true,false,null],"b":{"c":-7}}`, string(out[0].Content))

	out, err := in.Handle(t.Context(), []*acl.Message{text(acl.Request, `{"a":`)})
	require.Error(t, err)
	assert.Empty(t, out)
}
