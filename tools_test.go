package caxton_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/guest"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeToolbox answers by tool name and records the calls it gets.
type fakeToolbox struct {
	mu    sync.Mutex
	calls []caxton.ToolCall
	sleep time.Duration
}

func (f *fakeToolbox) CallTool(ctx context.Context, c caxton.ToolCall) caxton.ToolResult {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if !c.Grant.Allows(c.Tool) {
		return caxton.ToolResult{Status: caxton.ToolDenied, Content: []byte("not granted: " + c.Tool)}
	}
	switch c.Tool {
	case "upper":
		var a struct{ Text string }
		if err := json.Unmarshal(c.Arguments, &a); err != nil {
			return caxton.ToolResult{Status: caxton.ToolBadArguments, Content: []byte(err.Error())}
		}
		return caxton.ToolResult{Content: []byte(`"` + a.Text + `!"`)}
	case "slow":
		time.Sleep(f.sleep) // real time: the point is the wasm batch deadline
		return caxton.ToolResult{Content: []byte("slept")}
	case "huge":
		return caxton.ToolResult{Content: make([]byte, guest.ToolBuffer+1)}
	}
	return caxton.ToolResult{Status: caxton.ToolUnavailable, Content: []byte("no tool " + c.Tool)}
}

func (f *fakeToolbox) last() caxton.ToolCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[len(f.calls)-1]
}

// The status numbering is part of the guest ABI: host, sandbox and guest
// SDK must agree on it.
func TestToolStatusNumberingIsShared(t *testing.T) {
	assert.Equal(t, uint8(caxton.ToolUnavailable), sandbox.ToolStatusUnavailable)
	assert.Equal(t, uint8(caxton.ToolBadArguments), sandbox.ToolStatusBadArguments)
	assert.Equal(t, uint8(caxton.ToolTooLarge), sandbox.ToolStatusTooLarge)
	for s := caxton.ToolOK; s <= caxton.ToolTooLarge; s++ {
		assert.Equal(t, s.String(), guest.ToolStatus(s).String())
	}
}

func TestToolGrantAllows(t *testing.T) {
	tests := []struct {
		allow []string
		tool  string
		want  bool
	}{
		{nil, "lookup", false},
		{[]string{"lookup"}, "lookup", true},
		{[]string{"lookup"}, "lookup2", false},
		{[]string{"files/*"}, "files/read", true},
		{[]string{"files/*"}, "filesystem/read", false},
		{[]string{"files/*"}, "files", false},
		{[]string{"*"}, "anything/at/all", true},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, caxton.ToolGrant{Allow: tc.allow}.Allows(tc.tool), "%v allows %q", tc.allow, tc.tool)
	}
}

func TestSpawnRejectsBadToolGrants(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	h := lcNop()
	for field, g := range map[string]caxton.ToolGrant{
		"Tools.Allow":     {Allow: []string{"fi*les"}},
		"Tools.Allow ":    {Allow: []string{"files/"}},
		"Tools.Rate":      {Rate: -1},
		"Tools.Burst":     {Burst: -1},
		"Tools.Timeout":   {Timeout: -time.Second},
		"Tools.MaxResult": {MaxResult: -1},
	} {
		err := rt.Spawn(caxtontest.Context(t), caxton.AgentSpec{Name: "tg", Handler: h, Tools: g})
		var se *caxton.SpecError
		require.ErrorAs(t, err, &se, field)
		assert.Equal(t, strings.TrimSpace(field), se.Field)
	}
}

// A native agent calls a tool through its message context, within its
// grant (defaults filled in); a call outside the grant is a value.
func TestNativeAgentCallsTools(t *testing.T) {
	tb := &fakeToolbox{}
	rt := caxtontest.NewRuntime(t, caxton.WithToolbox(tb))
	rt.MustSpawn(caxton.AgentSpec{Name: "writer", Tools: caxton.ToolGrant{Allow: []string{"upper"}},
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			r := mc.CallTool(ctx, string(mc.Message().Content), map[string]string{"text": "hi"})
			return mc.Reply(ctx, acl.Inform, []byte(r.Status.String()+":"+string(r.Content)))
		})})
	ask := func(tool string) string {
		return string(rt.MustRequest(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"writer"}, Content: []byte(tool)}).Content)
	}
	assert.Equal(t, `ok:"hi!"`, ask("upper"))
	c := tb.last()
	assert.Equal(t, acl.AgentID("writer"), c.Agent)
	assert.JSONEq(t, `{"text":"hi"}`, string(c.Arguments))
	assert.Equal(t, caxton.DefaultToolTimeout, c.Grant.Timeout)
	assert.Equal(t, caxton.DefaultMaxToolResult, c.Grant.MaxResult)
	assert.Equal(t, "denied:not granted: delete", ask("delete"))

	plain := caxtontest.NewRuntime(t)
	plain.MustSpawn(caxton.AgentSpec{Name: "a", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		r := mc.CallTool(ctx, "upper", nil)
		require.Error(t, r.Err())
		return mc.Reply(ctx, acl.Inform, []byte(r.Status.String()))
	})})
	assert.Equal(t, "unavailable", string(plain.MustRequest(acl.New(acl.Request, "a")).Content))
}

// A wasm guest calls tools through the caxton.tool_call import: results,
// denials and oversized results are values; the time a tool takes does not
// count against the guest's batch deadline.
func TestWasmAgentCallsTools(t *testing.T) {
	tb := &fakeToolbox{sleep: 300 * time.Millisecond}
	rt := caxtontest.NewRuntime(t, caxton.WithToolbox(tb), cachedModules())
	rt.MustSpawn(caxton.AgentSpec{Name: "caller",
		Tools: caxton.ToolGrant{Allow: []string{"upper", "slow", "huge"}},
		Wasm: &caxton.WasmSpec{Module: testguest.Build(t, "toolcaller"),
			Limits: sandbox.Limits{BatchDeadline: 100 * time.Millisecond}}})
	call := func(tool, args string) (int, string) {
		body := `{"tool":"` + tool + `"`
		if args != "" {
			body += `,"args":` + args
		}
		r := rt.MustRequest(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"caller"}, Content: []byte(body + "}")})
		var a struct {
			Status  int
			Content string
		}
		require.NoError(t, json.Unmarshal(r.Content, &a), string(r.Content))
		return a.Status, a.Content
	}
	st, content := call("upper", `{"text":"wasm"}`)
	assert.Equal(t, int(caxton.ToolOK), st)
	assert.Equal(t, `"wasm!"`, content)
	assert.Equal(t, acl.AgentID("caller"), tb.last().Agent)

	st, content = call("delete", "")
	assert.Equal(t, int(caxton.ToolDenied), st)
	assert.Contains(t, content, "not granted")

	st, content = call("huge", "")
	assert.Equal(t, int(caxton.ToolTooLarge), st)
	assert.Contains(t, content, "buffer holds")

	st, content = call("slow", "")
	assert.Equal(t, int(caxton.ToolOK), st, "300 ms in a tool is not the guest overrunning its 100 ms deadline")
	assert.Equal(t, "slept", content)
	info, err := rt.Agent("caller")
	require.NoError(t, err)
	assert.Zero(t, info.Failed)
}

type closingToolbox struct {
	fakeToolbox
	closed bool
}

func (c *closingToolbox) Close() error { c.closed = true; return nil }

func TestRuntimeClosesItsToolbox(t *testing.T) {
	tb := &closingToolbox{}
	rt, err := caxton.New(caxton.WithToolbox(tb))
	require.NoError(t, err)
	require.NoError(t, rt.Close(context.Background()))
	assert.True(t, tb.closed)
}
