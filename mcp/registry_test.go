package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/clock"
	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostRegistry returns a registry with the host tools the tests call.
func hostRegistry(t *testing.T, opts ...mcp.Option) *mcp.Registry {
	t.Helper()
	reg := mcp.NewRegistry(opts...)
	t.Cleanup(func() { require.NoError(t, reg.Close()) })
	add := func(tl mcp.Tool) { require.NoError(t, reg.Add(tl)) }
	add(mcp.Tool{Name: "upper", Description: "upper-cases text",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}`),
		Handler: func(_ context.Context, c tool.Call) ([]byte, error) {
			var in struct{ Text string }
			if err := json.Unmarshal(c.Arguments, &in); err != nil {
				return nil, err
			}
			return []byte(strings.ToUpper(in.Text)), nil
		}})
	add(mcp.Tool{Name: "fail", Handler: func(context.Context, tool.Call) ([]byte, error) {
		return nil, errors.New("no luck")
	}})
	add(mcp.Tool{Name: "boom", Handler: func(context.Context, tool.Call) ([]byte, error) {
		panic("kaboom")
	}})
	add(mcp.Tool{Name: "blob", InputSchema: json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}}}`),
		Handler: func(_ context.Context, c tool.Call) ([]byte, error) {
			var in struct{ N int }
			_ = json.Unmarshal(c.Arguments, &in)
			return []byte(strings.Repeat("b", in.N)), nil
		}})
	add(mcp.Tool{Name: "wait", Handler: func(ctx context.Context, _ tool.Call) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	return reg
}

func TestAddRejectsBadDefinitions(t *testing.T) {
	ok := func(context.Context, tool.Call) ([]byte, error) { return nil, nil }
	tests := []struct {
		name  string
		tool  mcp.Tool
		field string
		why   string
	}{
		{"empty name", mcp.Tool{Handler: ok}, "Name", "empty"},
		{"space", mcp.Tool{Name: "a b", Handler: ok}, "Name", "letters, digits"},
		{"slash", mcp.Tool{Name: "fs/read", Handler: ok}, "Name", "reserved for the namespaces"},
		{"star", mcp.Tool{Name: "a*", Handler: ok}, "Name", "'*'"},
		{"too long", mcp.Tool{Name: strings.Repeat("a", 129), Handler: ok}, "Name", "at most 128"},
		{"nil handler", mcp.Tool{Name: "x"}, "Handler", "nil"},
		{"schema not JSON", mcp.Tool{Name: "x", Handler: ok, InputSchema: json.RawMessage(`{`)}, "InputSchema", "not a JSON Schema"},
		{"schema not object", mcp.Tool{Name: "x", Handler: ok, InputSchema: json.RawMessage(`{"type":"string"}`)}, "InputSchema", `"type":"object"`},
		{"schema without type", mcp.Tool{Name: "x", Handler: ok, InputSchema: json.RawMessage(`{"properties":{}}`)}, "InputSchema", `"type":"object"`},
		{"schema unresolvable", mcp.Tool{Name: "x", Handler: ok, InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"$ref":"#/nope"}}}`)}, "InputSchema", "resolved"},
	}
	reg := mcp.NewRegistry()
	defer reg.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := reg.Add(tt.tool)
			require.ErrorIs(t, err, mcp.ErrInvalid)
			var de *mcp.DefinitionError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.field, de.Field)
			assert.Contains(t, err.Error(), tt.why)
		})
	}
	assert.Empty(t, reg.Tools())
}

func TestAddDefaultsAndLists(t *testing.T) {
	reg := mcp.NewRegistry()
	ok := func(context.Context, tool.Call) ([]byte, error) { return nil, nil }
	require.NoError(t, reg.Add(mcp.Tool{Name: "zeta", Description: "last", Handler: ok}))
	require.NoError(t, reg.Add(mcp.Tool{Name: "alpha", Handler: ok, InputSchema: json.RawMessage(`{"type":"object","required":["q"]}`)}))
	require.ErrorIs(t, reg.Add(mcp.Tool{Name: "zeta", Handler: ok}), mcp.ErrExists)

	tools := reg.Tools()
	require.Len(t, tools, 2)
	assert.Equal(t, mcp.ToolInfo{Name: "alpha", InputSchema: json.RawMessage(`{"type":"object","required":["q"]}`), Source: mcp.SourceHost}, tools[0])
	assert.Equal(t, mcp.ToolInfo{Name: "zeta", Description: "last", InputSchema: json.RawMessage(`{"type":"object"}`), Source: mcp.SourceHost}, tools[1])

	require.NoError(t, reg.Close())
	require.NoError(t, reg.Close(), "Close is idempotent")
	require.ErrorIs(t, reg.Add(mcp.Tool{Name: "late", Handler: ok}), mcp.ErrClosed)
	res := call(t, reg, "alpha", `{"q":1}`, grant("*"))
	assert.Equal(t, tool.StatusUnavailable, res.Status)
	assert.Contains(t, string(res.Content), "closed")
}

func TestHostToolCalls(t *testing.T) {
	tests := []struct {
		name   string
		tool   string
		args   string
		grant  tool.Grant
		status tool.Status
		want   string // the content, or a part of the reason
	}{
		{"ok", "upper", `{"text":"hi"}`, grant("upper"), tool.StatusOK, "HI"},
		{"no arguments mean {}", "blob", ``, grant("blob"), tool.StatusOK, ""},
		{"tool error", "fail", `{}`, grant("fail"), tool.StatusError, "no luck"},
		{"panic", "boom", `{}`, grant("boom"), tool.StatusError, `tool "boom" panicked: kaboom`},
		{"arguments not an object", "upper", `["hi"]`, grant("upper"), tool.StatusBadArguments, "must be a JSON object, got an array"},
		{"arguments null", "upper", `null`, grant("upper"), tool.StatusBadArguments, "must be a JSON object, got null"},
		{"arguments not JSON", "upper", `{"text":`, grant("upper"), tool.StatusBadArguments, "not valid JSON"},
		{"wrong type", "upper", `{"text":3}`, grant("upper"), tool.StatusBadArguments, "text"},
		{"missing required", "upper", `{}`, grant("upper"), tool.StatusBadArguments, "text"},
		{"extra property", "upper", `{"text":"a","x":1}`, grant("upper"), tool.StatusBadArguments, "x"},
		{"unknown tool", "nope", `{}`, grant("*"), tool.StatusUnavailable, `no tool named "nope"`},
		{"no grant", "upper", `{"text":"hi"}`, tool.Grant{}, tool.StatusDenied, `its grant allows nothing; add "upper" or "*" to AgentSpec.Tools.Allow`},
		{"other tool granted", "upper", `{"text":"hi"}`, grant("fail"), tool.StatusDenied, `may not call tool "upper"`},
		{"other namespace granted", "upper", `{"text":"hi"}`, grant("files/*"), tool.StatusDenied, `its grant allows ["files/*"]`},
		{"denied before lookup", "nope", `{}`, grant("upper"), tool.StatusDenied, `"nope"`},
		{"everything granted", "upper", `{"text":"hi"}`, grant("*"), tool.StatusOK, "HI"},
		{"too large", "blob", `{"n":100}`, tool.Grant{Allow: []string{"blob"}, MaxResult: 10}, tool.StatusTooLarge, "returned 100 bytes; the grant's MaxResult is 10"},
		{"just fits", "blob", `{"n":10}`, tool.Grant{Allow: []string{"blob"}, MaxResult: 10}, tool.StatusOK, "bbbbbbbbbb"},
	}
	hook := newRecordingHook()
	reg := hostRegistry(t, mcp.WithAuditHook(hook.hook))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, reg, tt.tool, tt.args, tt.grant)
			require.Equal(t, tt.status, res.Status, "content: %s", res.Content)
			if tt.status == tool.StatusOK {
				assert.Equal(t, tt.want, string(res.Content))
				assert.NoError(t, res.Err())
			} else {
				assert.Contains(t, string(res.Content), tt.want)
				var ce *tool.CallError
				require.ErrorAs(t, res.Err(), &ce)
				assert.Equal(t, tt.status, ce.Status)
			}

			rec := lastAudit(t, reg)
			assert.Equal(t, mcp.AuditRecord{Time: rec.Time, Duration: rec.Duration, Agent: "a1", Tool: tt.tool, Status: tt.status,
				Error: rec.Error, ArgBytes: max(len(tt.args), 2), ResultBytes: rec.ResultBytes}, rec)
			if tt.status == tool.StatusOK {
				assert.Empty(t, rec.Error)
				assert.Equal(t, len(res.Content), rec.ResultBytes)
			} else {
				assert.Equal(t, string(res.Content), rec.Error)
			}
		})
	}
	assert.Len(t, hook.all(), len(tests), "the hook sees every call")
	assert.Equal(t, 100, reg.Audit()[len(tests)-2].ResultBytes, "a refused result's size is audited")
}

func TestHandlerSeesTheCallWithDefaults(t *testing.T) {
	reg := mcp.NewRegistry()
	defer reg.Close()
	got := make(chan tool.Call, 1)
	require.NoError(t, reg.Add(mcp.Tool{Name: "peek", Handler: func(ctx context.Context, c tool.Call) ([]byte, error) {
		got <- c
		dl, ok := ctx.Deadline()
		if !ok || time.Until(dl) > tool.DefaultTimeout {
			return nil, fmt.Errorf("no deadline within the default timeout: %v %v", dl, ok)
		}
		return []byte("ok"), nil
	}}))
	res := call(t, reg, "peek", `{"a":1}`, grant("peek"))
	require.Equal(t, tool.StatusOK, res.Status, "%s", res.Content)
	c := <-got
	assert.Equal(t, tool.Call{Agent: "a1", Tool: "peek", Arguments: json.RawMessage(`{"a":1}`),
		Grant: tool.Grant{Allow: []string{"peek"}, Timeout: tool.DefaultTimeout, MaxResult: tool.DefaultMaxResult}}, c)
}

func TestReasonsAreBoundedByMaxResult(t *testing.T) {
	reg := mcp.NewRegistry()
	defer reg.Close()
	require.NoError(t, reg.Add(mcp.Tool{Name: "loud", Handler: func(context.Context, tool.Call) ([]byte, error) {
		return nil, errors.New(strings.Repeat("e", 1000))
	}}))
	res := call(t, reg, "loud", `{}`, tool.Grant{Allow: []string{"loud"}, MaxResult: 10})
	assert.Equal(t, tool.StatusError, res.Status)
	assert.Equal(t, "eeeeeeeeee…", string(res.Content))
}

func TestRateLimitPerAgent(t *testing.T) {
	fc := clock.NewFake(time.Time{})
	reg := hostRegistry(t, mcp.WithClock(fc))
	g := tool.Grant{Allow: []string{"upper"}, Rate: 1, Burst: 2}
	as := func(agent string, g tool.Grant) tool.Status {
		t.Helper()
		res := reg.CallTool(testContext(t), tool.Call{Agent: acl.AgentID("ag-" + agent), Tool: "upper", Arguments: json.RawMessage(`{"text":"x"}`), Grant: g})
		return res.Status
	}
	require.Equal(t, tool.StatusOK, as("a", g))
	require.Equal(t, tool.StatusOK, as("a", g), "the burst is 2")
	require.Equal(t, tool.StatusRateLimited, as("a", g))
	rec := lastAudit(t, reg)
	assert.Equal(t, tool.StatusRateLimited, rec.Status)
	assert.Contains(t, rec.Error, `agent "ag-a" is over its tool rate of 1 calls/s (burst 2); retry in 1s`)
	require.Equal(t, tool.StatusOK, as("b", g), "each agent has its own bucket")

	fc.Advance(999 * time.Millisecond)
	require.Equal(t, tool.StatusRateLimited, as("a", g))
	fc.Advance(time.Millisecond)
	require.Equal(t, tool.StatusOK, as("a", g), "a token came back after a second")
	require.Equal(t, tool.StatusRateLimited, as("a", g))

	// A changed grant (say, the agent was respawned) gets a fresh bucket.
	faster := g
	faster.Rate, faster.Burst = 10, 0 // Burst defaults to 10
	for i := range 10 {
		require.Equal(t, tool.StatusOK, as("a", faster), "call %d", i)
	}
	require.Equal(t, tool.StatusRateLimited, as("a", faster))

	// Rate 0 is unlimited.
	for range 20 {
		require.Equal(t, tool.StatusOK, as("c", grant("upper")))
	}
	// A denied call does not spend a token; a call with bad arguments does
	// (the limit comes before the argument check).
	require.Equal(t, tool.StatusOK, as("d", tool.Grant{Allow: []string{"upper"}, Rate: 1}))
	res := reg.CallTool(testContext(t), tool.Call{Agent: "ag-d", Tool: "upper", Arguments: json.RawMessage(`{}`), Grant: tool.Grant{Allow: []string{"upper"}, Rate: 1}})
	assert.Equal(t, tool.StatusRateLimited, res.Status)
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	reg := hostRegistry(t)
	require.NoError(t, reg.Add(mcp.Tool{Name: "stubborn", Handler: func(context.Context, tool.Call) ([]byte, error) {
		<-release // ignores its context
		return []byte("too late"), nil
	}}))
	for _, name := range []string{"wait", "stubborn"} {
		t.Run(name, func(t *testing.T) {
			res := call(t, reg, name, `{}`, tool.Grant{Allow: []string{name}, Timeout: 50 * time.Millisecond})
			require.Equal(t, tool.StatusTimeout, res.Status, "%s", res.Content)
			assert.Contains(t, string(res.Content), "took longer than the grant's timeout of 50ms")
			assert.Equal(t, tool.StatusTimeout, lastAudit(t, reg).Status)
		})
	}
}

func TestCallerCancels(t *testing.T) {
	reg := mcp.NewRegistry()
	defer reg.Close()
	started := make(chan struct{})
	require.NoError(t, reg.Add(mcp.Tool{Name: "wait", Handler: func(ctx context.Context, _ tool.Call) ([]byte, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}}))
	ctx, cancel := context.WithCancel(testContext(t))
	done := make(chan tool.Result, 1)
	go func() { done <- reg.CallTool(ctx, tool.Call{Agent: "a1", Tool: "wait", Grant: grant("wait")}) }()
	<-started
	cancel()
	res := <-done
	require.Equal(t, tool.StatusUnavailable, res.Status, "%s", res.Content)
	assert.Contains(t, string(res.Content), "cancelled by the caller: context canceled")
	assert.Equal(t, tool.StatusUnavailable, lastAudit(t, reg).Status)
}

func TestNilContext(t *testing.T) {
	reg := hostRegistry(t)
	var nilCtx context.Context
	res := reg.CallTool(nilCtx, tool.Call{Agent: "a1", Tool: "upper", Grant: grant("upper")})
	assert.Equal(t, tool.StatusUnavailable, res.Status)
	assert.Contains(t, string(res.Content), "nil context")
	assert.Equal(t, tool.StatusUnavailable, lastAudit(t, reg).Status)
}

func TestAuditRing(t *testing.T) {
	hook := newRecordingHook()
	reg := hostRegistry(t, mcp.WithAuditBuffer(3), mcp.WithAuditHook(hook.hook))
	for i := range 5 {
		call(t, reg, "upper", fmt.Sprintf(`{"text":"%d"}`, i), grant("upper"))
	}
	recs := reg.Audit()
	require.Len(t, recs, 3)
	for i, r := range recs {
		assert.Equal(t, 1, r.ResultBytes)
		assert.Equal(t, len(`{"text":"0"}`), r.ArgBytes, "record %d", i)
	}
	assert.Len(t, hook.all(), 5)

	none := hostRegistry(t, mcp.WithAuditBuffer(0), mcp.WithAuditHook(hook.hook))
	call(t, none, "upper", `{"text":"x"}`, grant("upper"))
	assert.Empty(t, none.Audit())
	assert.Len(t, hook.all(), 1)
}

func TestAuditUsesTheClock(t *testing.T) {
	fc := clock.NewFake(time.Time{})
	reg := hostRegistry(t, mcp.WithClock(fc))
	call(t, reg, "upper", `{"text":"x"}`, grant("upper"))
	rec := lastAudit(t, reg)
	assert.Equal(t, fc.Now(), rec.Time)
	assert.Zero(t, rec.Duration, "the fake clock did not move")
}
