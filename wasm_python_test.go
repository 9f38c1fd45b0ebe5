package caxton_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/guest/python"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pyRuntime is a test runtime whose module cache already holds the Python
// engine: a cold compile on a busy machine could use up Spawn's test
// context.
func pyRuntime(t *testing.T, opts ...caxton.Option) *caxtontest.Runtime {
	t.Helper()
	e, err := sandbox.NewEngine(sandbox.WithCacheDir(moduleCache))
	require.NoError(t, err)
	_, err = e.Compile(t.Context(), python.Engine())
	require.NoError(t, err)
	require.NoError(t, e.Close())
	return caxtontest.NewRuntime(t, append([]caxton.Option{cachedModules(), caxton.WithPython(python.Engine())}, opts...)...)
}

// The example Python agents (guest/python/agents) are scripts, deployed
// like modules.
func pyAgent(name acl.AgentID, file string) caxton.AgentSpec {
	return caxton.AgentSpec{Name: name, Wasm: &caxton.WasmSpec{File: "guest/python/agents/" + file}}
}

func TestPythonAgentsConverseWithNativeAgents(t *testing.T) {
	rt := pyRuntime(t)
	rt.MustSpawn(pyAgent("py-echo", "echo.py"))
	rt.MustSpawn(pyAgent("py-counter", "counter.py"))
	rt.MustSpawn(pyAgent("py-worker", "worker.py"))

	m := request("bonjour ☀", "py-echo")
	m.Protocol, m.Ontology, m.Language = "fipa-request", "greetings", "text/plain"
	reply := rt.MustRequest(m)
	assert.Equal(t, acl.Inform, reply.Performative)
	assert.Equal(t, "bonjour ☀", string(reply.Content))
	assert.Equal(t, acl.AgentID("py-echo"), reply.Sender)
	assert.Equal(t, "fipa-request", reply.Protocol)
	assert.Equal(t, "greetings", reply.Ontology)
	assert.Equal(t, "text/plain", reply.Language)
	assert.Equal(t, m.ReplyWith, reply.InReplyTo)
	assert.Equal(t, m.ConversationID, reply.ConversationID)

	bin := request("", "py-echo")
	bin.Content = []byte{0xff, 0x00, 0xfe, 'a'}
	assert.Equal(t, bin.Content, rt.MustRequest(bin).Content, "content that is not UTF-8 comes back as the same bytes")

	for _, want := range []string{"1", "2", "3"} {
		assert.Equal(t, want, string(rt.MustRequest(request("tick", "py-counter")).Content))
	}
	assert.Equal(t, "done:ticket 7", string(rt.MustRequest(request("ticket 7", "py-worker")).Content))
	nu := rt.MustRequest(&acl.Message{Performative: acl.QueryRef, Receivers: []acl.AgentID{"py-worker"}})
	assert.Equal(t, acl.NotUnderstood, nu.Performative)
	assert.Equal(t, "query-ref", string(nu.Content))
}

// A script that does not load, or is not given properly, fails Spawn and
// says why.
func TestPythonThatCannotLoadFailsSpawn(t *testing.T) {
	rt := pyRuntime(t)
	ctx := caxtontest.Context(t)
	for name, tc := range map[string]struct{ src, want string }{
		"syntax":    {"def handle(msg, ctx)\n    pass\n", "SyntaxError"},
		"raises":    {"raise ValueError('no config')\n", "ValueError: no config"},
		"no handle": {"def handler(msg, ctx):\n    pass\n", "the script defines no handle(msg, ctx)"},
		"not fn":    {"handle = 3\n", "handle is not a function"},
		"import":    {"import os\n", `no module named "os"`},
	} {
		t.Run(name, func(t *testing.T) {
			err := rt.Spawn(ctx, caxton.AgentSpec{Name: "bad", Wasm: &caxton.WasmSpec{Python: tc.src}})
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sandbox.KindInitFailed, se.Kind)
			assert.Equal(t, acl.AgentID("bad"), se.Agent)
			assert.Contains(t, se.Detail, tc.want)
			assert.Contains(t, se.Detail, "python: ")
			_, err = rt.Agent("bad")
			assert.ErrorIs(t, err, caxton.ErrAgentNotFound)
		})
	}
	empty := filepath.Join(t.TempDir(), "empty.py")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	for name, w := range map[string]*caxton.WasmSpec{
		"two sources": {Python: "def handle(m, c):\n    pass\n", JavaScript: "function handle(){}"},
		"empty file":  {File: empty},
		"no file":     {File: filepath.Join(t.TempDir(), "missing.py")},
	} {
		err := rt.Spawn(ctx, caxton.AgentSpec{Name: "bad", Wasm: w})
		assert.ErrorIs(t, err, caxton.ErrInvalidSpec, name)
	}
}

// JSON content arrives as dicts and leaves as JSON; the clock is the
// runtime's; print and ctx.log reach the runtime's log.
func TestPythonJSONContentAndClock(t *testing.T) {
	rt := pyRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "sum", Wasm: &caxton.WasmSpec{Python: `
import math

def handle(msg, ctx):
    xs = msg.content["xs"]
    print("summing", xs)
    ctx.reply("inform", {"total": sum(xs), "root": math.sqrt(16), "now": ctx.now_nanos(), "nested": [None, True, "s"]})
`}})
	m := request(`{"xs":[1,2,3.5]}`, "sum")
	m.Language = "json"
	r := rt.MustRequest(m)
	assert.Equal(t, "json", r.Language)
	assert.JSONEq(t, `{"total":6.5,"root":4.0,"now":`+strconv.FormatInt(rt.Clock.Now().UnixNano(), 10)+`,"nested":[null,true,"s"]}`, string(r.Content))
}
