package caxton_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsRuntime is a test runtime whose module cache already holds the
// JavaScript engine: a cold compile of its 0.8 MB on a busy machine could
// use up Spawn's test context.
func jsRuntime(t *testing.T, opts ...caxton.Option) *caxtontest.Runtime {
	t.Helper()
	e, err := sandbox.NewEngine(sandbox.WithCacheDir(moduleCache))
	require.NoError(t, err)
	_, err = e.Compile(context.Background(), js.Engine())
	require.NoError(t, err)
	require.NoError(t, e.Close())
	return caxtontest.NewRuntime(t, append([]caxton.Option{cachedModules(), caxton.WithJavaScript(js.Engine())}, opts...)...)
}

// The example JavaScript agents (guest/js/agents) are scripts, deployed
// like modules.
func jsAgent(name acl.AgentID, file string) caxton.AgentSpec {
	return caxton.AgentSpec{Name: name, Wasm: &caxton.WasmSpec{File: "guest/js/agents/" + file}}
}

func TestJavaScriptAgentsConverseWithNativeAgents(t *testing.T) {
	rt := jsRuntime(t)
	rt.MustSpawn(jsAgent("js-echo", "echo.js"))
	rt.MustSpawn(jsAgent("js-counter", "counter.js"))
	rt.MustSpawn(jsAgent("js-worker", "worker.js"))

	m := request("bonjour ☀", "js-echo")
	m.Protocol, m.Ontology, m.Language = "fipa-request", "greetings", "text/plain"
	reply := rt.MustRequest(m)
	assert.Equal(t, acl.Inform, reply.Performative)
	assert.Equal(t, "bonjour ☀", string(reply.Content))
	assert.Equal(t, acl.AgentID("js-echo"), reply.Sender)
	assert.Equal(t, "fipa-request", reply.Protocol)
	assert.Equal(t, "greetings", reply.Ontology)
	assert.Equal(t, "text/plain", reply.Language)
	assert.Equal(t, m.ReplyWith, reply.InReplyTo)
	assert.Equal(t, m.ConversationID, reply.ConversationID)

	bin := request("", "js-echo")
	bin.Content = []byte{0xff, 0x00, 0xfe, 'a'}
	assert.Equal(t, bin.Content, rt.MustRequest(bin).Content, "content that is not UTF-8 comes back as the same bytes")

	for _, want := range []string{"1", "2", "3"} {
		assert.Equal(t, want, string(rt.MustRequest(request("tick", "js-counter")).Content))
	}
	assert.Equal(t, "done:ticket 7", string(rt.MustRequest(request("ticket 7", "js-worker")).Content))
	nu := rt.MustRequest(&acl.Message{Performative: acl.QueryRef, Receivers: []acl.AgentID{"js-worker"}})
	assert.Equal(t, acl.NotUnderstood, nu.Performative)
	assert.Equal(t, "query-ref", string(nu.Content))
}

// Every ACL field crosses the ABI both ways through the script: the mirror
// sends each message back as it came.
func TestJavaScriptMirrorKeepsEveryField(t *testing.T) {
	rt := jsRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "sink")
	rt.MustSpawn(jsAgent("js-mirror", "mirror.js"))
	by := time.Unix(1_900_000_000, 123_456_789)
	m := &acl.Message{
		Performative: acl.Propose, Receivers: []acl.AgentID{"js-mirror"}, ReplyTo: "sink",
		Content: []byte(`{"a":[1,2]}`), Language: "json", Encoding: "utf-8", Ontology: "tests",
		Protocol: "fipa-contract-net", ConversationID: "conv-1", ReplyWith: "rw-1", InReplyTo: "irt-1",
		ReplyBy: by, Priority: acl.PriorityHigh,
		Params:       map[string]string{"X-Colour": "blue", "X-Empty": ""},
		TraceContext: map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	}
	rt.MustSend(m)
	got := rec.AwaitN(t, 1)[0]
	assert.Equal(t, acl.Propose, got.Performative)
	assert.Equal(t, acl.AgentID("js-mirror"), got.Sender)
	assert.Equal(t, []acl.AgentID{"sink"}, got.Receivers)
	assert.Equal(t, acl.AgentID("sink"), got.ReplyTo)
	assert.Equal(t, m.Content, got.Content)
	for field, pair := range map[string][2]string{
		"language": {m.Language, got.Language}, "encoding": {m.Encoding, got.Encoding},
		"ontology": {m.Ontology, got.Ontology}, "protocol": {m.Protocol, got.Protocol},
		"conversation": {m.ConversationID, got.ConversationID}, "reply-with": {m.ReplyWith, got.ReplyWith},
		"in-reply-to": {m.InReplyTo, got.InReplyTo},
	} {
		assert.Equal(t, pair[0], pair[1], field)
	}
	assert.True(t, by.Equal(got.ReplyBy), "reply-by to the nanosecond: %v", got.ReplyBy)
	assert.Equal(t, acl.PriorityHigh, got.Priority)
	assert.Equal(t, m.TraceContext, got.TraceContext)
	assert.Equal(t, "blue", got.Params["X-Colour"])
	assert.Contains(t, got.Params, "X-Empty")
	// What an agent cannot send itself comes back in params.
	assert.Equal(t, "js-mirror", got.Params["X-Receivers"])
	assert.Equal(t, "host", got.Params["X-Sender"], "sent by host code")
	assert.NotEmpty(t, got.Params["X-Id"])
	assert.NotEqual(t, "0", got.Params["X-Created-At"])
}

// probe answers what its content asks (guest/js/agents/probe.js).
func jsProbe(t *testing.T, rt *caxtontest.Runtime, name acl.AgentID, spec func(*caxton.AgentSpec)) {
	t.Helper()
	s := jsAgent(name, "probe.js")
	if spec != nil {
		spec(&s)
	}
	rt.MustSpawn(s)
}

// A script's exceptions fail the one message: PermanentError dead-letters
// it at once, anything else is retried; the agent goes on with the next.
func TestJavaScriptFailuresArePerMessage(t *testing.T) {
	var logs syncLog
	rt := jsRuntime(t, caxton.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	jsProbe(t, rt, "probe", func(s *caxton.AgentSpec) { s.Delivery = caxton.DeliveryPolicy{MaxAttempts: 2} })

	rt.MustSend(inform("fatal", "probe"))
	d := rt.AwaitDeadLetters(1)[0]
	assert.Equal(t, "fatal", string(d.Message.Content))
	assert.Equal(t, 1, d.Attempts, "a permanent failure is not retried")
	assert.Contains(t, d.LastError, sandbox.KindGuestPermanent.String())
	assert.Contains(t, logs.String(), "javascript: handle failed permanently: PermanentError: asked to fail for good")
	assert.Equal(t, "ok:still here", string(rt.MustRequest(request("still here", "probe")).Content))

	rt.MustSend(inform("fail", "probe"))
	rt.AdvanceWhenWaiting(1, time.Second) // retry backoff
	d = rt.AwaitDeadLetters(2)[1]
	assert.Equal(t, "max attempts", d.Reason)
	assert.Equal(t, 2, d.Attempts)
	assert.Equal(t, "ok:after", string(rt.MustRequest(request("after", "probe")).Content))
	info := must(rt.Agent("probe"))
	assert.Zero(t, info.Restarts, "a script's exception does not replace the instance")
}

func TestJavaScriptAgentCallsTools(t *testing.T) {
	tb := &fakeToolbox{}
	rt := jsRuntime(t, caxton.WithToolbox(tb))
	jsProbe(t, rt, "probe", func(s *caxton.AgentSpec) { s.Tools = tool.Grant{Allow: []string{"upper", "huge"}} })
	ask := func(cmd string) string { return string(rt.MustRequest(request(cmd, "probe")).Content) }

	assert.Equal(t, `0:"wasm!"`, ask(`tool:upper:{"text":"wasm"}`), "granted")
	assert.Equal(t, acl.AgentID("probe"), tb.last().Agent)
	assert.JSONEq(t, `{"text":"wasm"}`, string(tb.last().Arguments))
	got := ask(`tool:delete:{}`)
	assert.Equal(t, fmt.Sprintf("%d:not granted: delete", tool.StatusDenied), got)
	assert.Contains(t, ask(`tool:huge:{}`), fmt.Sprintf("%d:", tool.StatusTooLarge))
	assert.Contains(t, ask(`tool:upper:{"text":1}`), fmt.Sprintf("%d:", tool.StatusBadArguments))
}

func TestJavaScriptLogsGoToTheRuntimesLogger(t *testing.T) {
	var logs syncLog
	rt := jsRuntime(t, caxton.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	rt.MustSpawn(caxton.AgentSpec{Name: "talker", Wasm: &caxton.WasmSpec{JavaScript: `
		function handle(msg, ctx) {
			ctx.log('hello', msg.text, {n: 1});
			ctx.warn('careful');
			console.error(new Error('boom'));
			ctx.debug('details');
			ctx.reply('inform', 'ok');
		}`}})
	assert.Equal(t, "ok", string(rt.MustRequest(request("world", "talker")).Content))
	out := logs.String()
	assert.Contains(t, out, `level=INFO msg="hello world {\"n\":1}" agent=talker`)
	assert.Contains(t, out, `level=WARN msg=careful agent=talker`)
	assert.Contains(t, out, `level=ERROR msg="Error: boom" agent=talker`)
	assert.Contains(t, out, `level=DEBUG msg=details agent=talker`)
}

// The limits of any guest hold for a script: a runaway loop meets the
// batch deadline or runs out of fuel, a script that fills its memory is
// stopped at the limit; each time the instance is replaced and the agent
// answers again.
func TestJavaScriptLimitsAreContained(t *testing.T) {
	cases := []struct {
		name   string
		cmd    string
		limits sandbox.Limits
		kind   sandbox.Kind
	}{
		{"deadline", "spin", sandbox.Limits{BatchDeadline: 50 * time.Millisecond}, sandbox.KindDeadline},
		{"fuel", "spin", sandbox.Limits{FuelPerBatch: 50_000_000}, sandbox.KindOutOfFuel},
		{"memory", "grow:64", sandbox.Limits{MaxMemory: 16 << 20}, sandbox.KindMemory},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := jsRuntime(t)
			jsProbe(t, rt, "probe", func(s *caxton.AgentSpec) {
				s.Wasm.Limits = tc.limits
				s.Delivery = caxton.DeliveryPolicy{MaxAttempts: 1}
				s.Restart = caxton.RestartPolicy{MaxRestarts: 10}
			})
			assert.Equal(t, "ok:before", string(rt.MustRequest(request("before", "probe")).Content))
			rt.MustSend(inform(tc.cmd, "probe"))
			rt.AdvanceWhenWaiting(1, time.Second) // restart backoff
			d := rt.AwaitDeadLetters(1)[0]
			assert.Contains(t, d.LastError, tc.kind.String())
			caxtontest.Eventually(t, func() bool { return must(rt.Agent("probe")).Restarts == 1 }, "a replacement")
			assert.Equal(t, "ok:after", string(rt.MustRequest(request("after", "probe")).Content))
		})
	}
}

// A script that does not load, or is not given properly, fails Spawn and
// says why.
func TestJavaScriptThatCannotLoadFailsSpawn(t *testing.T) {
	rt := jsRuntime(t)
	ctx := caxtontest.Context(t)
	for name, tc := range map[string]struct{ src, want string }{
		"syntax":    {"function handle(msg, ctx) {", "the script failed to load: SyntaxError"},
		"throws":    {"throw new Error('no config')", "the script failed to load: Error: no config"},
		"no handle": {"function handler(msg, ctx) {}", "does not define a function handle(msg, ctx)"},
		"not fn":    {"var handle = 3", "does not define a function handle(msg, ctx)"},
	} {
		t.Run(name, func(t *testing.T) {
			err := rt.Spawn(ctx, caxton.AgentSpec{Name: "bad", Wasm: &caxton.WasmSpec{JavaScript: tc.src}})
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sandbox.KindInitFailed, se.Kind)
			assert.Equal(t, acl.AgentID("bad"), se.Agent)
			assert.Contains(t, se.Detail, tc.want)
			assert.NotContains(t, se.Detail, "\n", "one line")
			_, err = rt.Agent("bad")
			assert.ErrorIs(t, err, caxton.ErrAgentNotFound)
		})
	}
	empty := filepath.Join(t.TempDir(), "empty.js")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	for name, w := range map[string]*caxton.WasmSpec{
		"two sources": {JavaScript: "function handle(){}", WAT: "(module)"},
		"empty file":  {File: empty},
		"no file":     {File: filepath.Join(t.TempDir(), "missing.js")},
	} {
		err := rt.Spawn(ctx, caxton.AgentSpec{Name: "bad", Wasm: w})
		assert.ErrorIs(t, err, caxton.ErrInvalidSpec, name)
	}
}

// JSON content arrives as objects and leaves as JSON; async handlers work
// when their promises settle without an event loop.
func TestJavaScriptJSONContentAndAsyncHandlers(t *testing.T) {
	rt := jsRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "sum", Wasm: &caxton.WasmSpec{JavaScript: `
		async function handle(msg, ctx) {
			const {xs} = msg.content;
			const total = await Promise.resolve(xs.reduce((a, b) => a + b, 0));
			ctx.reply('inform', {total, at: ctx.now().getTime()});
		}`}})
	m := request(`{"xs":[1,2,3.5]}`, "sum")
	m.Language = "json"
	r := rt.MustRequest(m)
	assert.Equal(t, "json", r.Language)
	var got struct {
		Total float64
		At    int64
	}
	require.NoError(t, json.Unmarshal(r.Content, &got), string(r.Content))
	assert.Equal(t, 6.5, got.Total)
	assert.Equal(t, rt.Clock.Now().UnixMilli(), got.At, "ctx.now is the runtime's (fake) clock")
}

// The Contract Net bidder takes part in a round run by the Go initiator.
func TestJavaScriptBidderInContractNet(t *testing.T) {
	rt := jsRuntime(t)
	spec := jsAgent("js-bidder", "bidder.js")
	spec.Wasm.Grants = sandbox.Grants{Env: map[string]string{"RATE": "2.5"}}
	rt.MustSpawn(spec)
	ask := func(p acl.Performative, content, conv string) *acl.Message {
		return rt.MustRequest(&acl.Message{Performative: p, Receivers: []acl.AgentID{"js-bidder"},
			Protocol: "fipa-contract-net", ConversationID: conv, Content: []byte(content)})
	}
	bid := ask(acl.CFP, `{"name":"report","kind":"text","size":4}`, "c1")
	require.Equal(t, acl.Propose, bid.Performative, string(bid.Content))
	o, err := contractnet.ParseOffer(bid.Content)
	require.NoError(t, err)
	assert.Equal(t, 10.0, o.Cost)
	done := ask(acl.AcceptProposal, "", "c1")
	assert.Equal(t, acl.Inform, done.Performative)
	assert.Equal(t, "report: 4 units done by a JavaScript agent for 10.00", string(done.Content))

	assert.Equal(t, acl.Refuse, ask(acl.CFP, `{"name":"film","kind":"video","size":1}`, "c2").Performative)
	assert.Equal(t, acl.NotUnderstood, ask(acl.CFP, `not json`, "c3").Performative)
	assert.Equal(t, acl.NotUnderstood, ask(acl.AcceptProposal, "", "c4").Performative, "no open proposal")
}

// The script sees a ToolError for a refused call and an exception it can
// catch for runaway recursion (the engine's stack limit is below the
// sandbox's); neither replaces the instance.
func TestJavaScriptErrorsInsideTheScript(t *testing.T) {
	rt := jsRuntime(t, caxton.WithToolbox(&fakeToolbox{}))
	rt.MustSpawn(caxton.AgentSpec{Name: "careful", Wasm: &caxton.WasmSpec{JavaScript: `
		let seen = 0;
		function deep(n) { return deep(n + 1) + 1; }
		function handle(msg, ctx) {
			seen++;
			switch (msg.text) {
			case 'tool':
				try { ctx.callTool('delete', {}); } catch (e) {
					ctx.reply('inform', [e.name, e.status, e.code, e.reason].join('|'));
				}
				return;
			case 'recurse':
				try { deep(0); } catch (e) { ctx.reply('inform', e.name + ': ' + e.message); }
				return;
			}
			ctx.reply('inform', String(seen));
		}`}})
	ask := func(s string) string { return string(rt.MustRequest(request(s, "careful")).Content) }
	assert.Equal(t, fmt.Sprintf("ToolError|denied|%d|not granted: delete", tool.StatusDenied), ask("tool"))
	assert.Equal(t, "InternalError: stack overflow", ask("recurse"))
	info := must(rt.Agent("careful"))
	assert.Zero(t, info.Restarts)
}

// Hot reload works for a script as for a module: an edited .js file is
// upgraded to; one that does not load is rolled back with the engine's
// message, and the agent keeps its running version.
func TestJavaScriptHotReload(t *testing.T) {
	rt := jsRuntime(t)
	events := rt.Watch(t.Context(), 64) // the test's life: a loaded machine may take longer than one call's safety net
	file := filepath.Join(t.TempDir(), "agent.js")
	says := func(s string) []byte { return []byte(`function handle(m, ctx) { ctx.reply('inform', '` + s + `'); }`) }
	require.NoError(t, os.WriteFile(file, says("v1"), 0o600))
	rt.MustSpawn(caxton.AgentSpec{Name: "dev", Wasm: &caxton.WasmSpec{File: file, Reload: time.Second}})
	eventsUntil(t, events, caxton.EventSpawned)
	assert.Equal(t, "v1", string(rt.MustRequest(request("x", "dev")).Content))

	require.NoError(t, os.WriteFile(file, says("v2"), 0o600))
	rt.AdvanceWhenWaiting(1, time.Second)
	eventsUntil(t, events, caxton.EventUpgradePromoted)
	assert.Equal(t, "v2", string(rt.MustRequest(request("x", "dev")).Content))

	require.NoError(t, os.WriteFile(file, []byte("function handle(m, ctx) {"), 0o600))
	rt.AdvanceWhenWaiting(1, time.Second)
	e := eventsUntil(t, events, caxton.EventUpgradeRolledBack)
	assert.Contains(t, e[len(e)-1].Detail, "SyntaxError")
	assert.Equal(t, "v2", string(rt.MustRequest(request("x", "dev")).Content))
}
