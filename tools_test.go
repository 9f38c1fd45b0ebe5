package caxton_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/guest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeToolbox answers by tool name and records the calls it gets.
type fakeToolbox struct {
	mu    sync.Mutex
	calls []tool.Call
	sleep time.Duration
}

func (f *fakeToolbox) CallTool(ctx context.Context, c tool.Call) tool.Result {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if !c.Grant.Allows(c.Tool) {
		return tool.Result{Status: tool.StatusDenied, Content: []byte("not granted: " + c.Tool)}
	}
	switch c.Tool {
	case "upper":
		var a struct{ Text string }
		if err := json.Unmarshal(c.Arguments, &a); err != nil {
			return tool.Result{Status: tool.StatusBadArguments, Content: []byte(err.Error())}
		}
		return tool.Result{Content: []byte(`"` + a.Text + `!"`)}
	case "slow":
		time.Sleep(f.sleep) // real time: the point is the wasm batch deadline
		return tool.Result{Content: []byte("slept")}
	case "huge":
		return tool.Result{Content: make([]byte, guest.ToolBuffer+1)}
	}
	return tool.Result{Status: tool.StatusUnavailable, Content: []byte("no tool " + c.Tool)}
}

func (f *fakeToolbox) last() tool.Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[len(f.calls)-1]
}

// A bad grant fails Spawn with a *SpecError naming the field under
// AgentSpec.Tools (the checks themselves are package tool's).
func TestSpawnRejectsBadToolGrants(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	h := lcNop()
	for _, tc := range []struct {
		field string
		grant tool.Grant
	}{
		{"Tools.Allow", tool.Grant{Allow: []string{"fi*les"}}},
		{"Tools.Allow", tool.Grant{Allow: []string{"files/"}}},
		{"Tools.Rate", tool.Grant{Rate: -1}},
		{"Tools.Burst", tool.Grant{Burst: -1}},
		{"Tools.Timeout", tool.Grant{Timeout: -time.Second}},
		{"Tools.MaxResult", tool.Grant{MaxResult: -1}},
	} {
		err := rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: "tg", Handler: h, Tools: tc.grant})
		var se *caxton.SpecError
		require.ErrorAs(t, err, &se, tc.field)
		assert.Equal(t, tc.field, se.Field)
		assert.ErrorIs(t, err, caxton.ErrInvalidSpec)
	}
}

// A native agent calls a tool through its message context, within its
// grant (defaults filled in); a call outside the grant is a value.
func TestNativeAgentCallsTools(t *testing.T) {
	tb := &fakeToolbox{}
	rt := caxtontest.NewRuntime(t, caxton.WithToolbox(tb))
	rt.MustSpawn(caxton.AgentSpec{Name: "writer", Tools: tool.Grant{Allow: []string{"upper"}},
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
	assert.Equal(t, tool.DefaultTimeout, c.Grant.Timeout)
	assert.Equal(t, tool.DefaultMaxResult, c.Grant.MaxResult)
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
// count against the guest's batch deadline. (The deadline is 1 s so that a
// loaded machine cannot make the guest's own few milliseconds overrun it;
// the slow tool takes twice that.)
func TestWasmAgentCallsTools(t *testing.T) {
	tb := &fakeToolbox{sleep: 2 * time.Second}
	rt := caxtontest.NewRuntime(t, cachedModules(), caxton.WithToolbox(tb)) // see goGuest
	rt.MustSpawn(caxton.AgentSpec{Name: "caller",
		Tools: tool.Grant{Allow: []string{"upper", "slow", "huge"}},
		Wasm: &caxton.WasmSpec{Module: goGuest(t, "toolcaller"),
			Limits: sandbox.Limits{BatchDeadline: time.Second}}})
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
	assert.Equal(t, int(tool.StatusOK), st)
	assert.Equal(t, `"wasm!"`, content)
	assert.Equal(t, acl.AgentID("caller"), tb.last().Agent)

	st, content = call("delete", "")
	assert.Equal(t, int(tool.StatusDenied), st)
	assert.Contains(t, content, "not granted")

	st, content = call("huge", "")
	assert.Equal(t, int(tool.StatusTooLarge), st)
	assert.Contains(t, content, "buffer holds")

	st, content = call("slow", "")
	assert.Equal(t, int(tool.StatusOK), st, "2 s in a tool is not the guest overrunning its 1 s deadline")
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
