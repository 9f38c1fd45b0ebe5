package caxton_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/internal/testenv"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// moduleCache is where the tests' runtimes share compiled guests (a Go
// guest takes 1-2 s to compile, more on a busy machine, and ~0.5 ms to load
// from the cache).
var moduleCache = testenv.ModuleCache()

func cachedModules() caxton.Option { return caxton.WithSandboxCacheDir(moduleCache) }

// goGuest builds the Go guest name and compiles it into moduleCache before
// any Spawn sees it: Spawn's test context (caxtontest.DefaultTimeout) bounds
// a guest's start-up, and a cold compile on a busy machine could use it up.
func goGuest(t *testing.T, name string) []byte {
	t.Helper()
	code := testguest.Build(t, name)
	e, err := sandbox.NewEngine(sandbox.WithCacheDir(moduleCache))
	require.NoError(t, err)
	defer e.Close()
	_, err = e.Compile(context.Background(), code)
	require.NoError(t, err)
	return code
}

func wasmAgent(name acl.AgentID, code []byte) caxton.AgentSpec {
	return caxton.AgentSpec{Name: name, Wasm: &caxton.WasmSpec{Module: code}}
}

func TestGoGuestConversesWithNativeAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go guests")
	}
	rt := caxtontest.NewRuntime(t, cachedModules())
	rt.MustSpawn(wasmAgent("echo", goGuest(t, "echo")))
	rt.MustSpawn(wasmAgent("counter", goGuest(t, "counter")))
	rt.MustSpawn(wasmAgent("worker", goGuest(t, "worker")))

	reply := rt.MustRequest(request("hello", "echo"))
	assert.Equal(t, "hello", string(reply.Content))
	assert.Equal(t, acl.AgentID("echo"), reply.Sender, "the runtime stamps the guest's name")

	for _, want := range []string{"1", "2", "3"} {
		assert.Equal(t, want, string(rt.MustRequest(request("tick", "counter")).Content), "state survives across messages")
	}

	// A native agent asks the wasm worker from inside its own handler.
	rt.MustSpawn(caxton.AgentSpec{Name: "front", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		ans, err := mc.Request(ctx, request(string(mc.Message().Content), "worker"))
		if err != nil {
			return err
		}
		return mc.Reply(ctx, acl.Inform, ans.Content)
	})})
	assert.Equal(t, "done:invoice 42", string(rt.MustRequest(request("invoice 42", "front")).Content))
	nu := rt.MustRequest(&acl.Message{Performative: acl.QueryIf, Receivers: []acl.AgentID{"worker"}})
	assert.Equal(t, acl.NotUnderstood, nu.Performative)
}

func TestWasmAgentFromFileAndReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go guests")
	}
	rt := caxtontest.NewRuntime(t, cachedModules())
	path := t.TempDir() + "/counter.wasm"
	require.NoError(t, os.WriteFile(path, goGuest(t, "counter"), 0o644))
	rt.MustSpawn(caxton.AgentSpec{Name: "c", Replicas: 2, Balance: caxton.BalanceRoundRobin, Wasm: &caxton.WasmSpec{File: path}})
	got := map[string]int{}
	for range 4 {
		got[string(rt.MustRequest(request("x", "c")).Content)]++
	}
	assert.Equal(t, map[string]int{"1": 2, "2": 2}, got, "each replica is its own instance with its own state")
}

// hostileCase is a guest that misbehaves on every message.
type hostileCase struct {
	name   string
	code   string
	limits sandbox.Limits
	kind   sandbox.Kind
}

func TestHostileGuestsAreContained(t *testing.T) {
	cases := []hostileCase{
		{"loop", testguest.WATLoop, sandbox.Limits{BatchDeadline: 10 * time.Millisecond}, sandbox.KindDeadline},
		{"fuel", testguest.WATLoop, sandbox.Limits{FuelPerBatch: 10_000}, sandbox.KindOutOfFuel},
		{"bomb", testguest.WATMemoryBomb, sandbox.Limits{MaxMemory: 2 << 20}, sandbox.KindMemory},
		{"table-bomb", testguest.WATTableBomb, sandbox.Limits{}, sandbox.KindTable},
		{"recursion", testguest.WATRecursion, sandbox.Limits{}, sandbox.KindStackOverflow},
		{"oob", testguest.WATOutOfBounds, sandbox.Limits{}, sandbox.KindOutOfBounds},
		{"huge-outbox", testguest.WATHugeOutbox, sandbox.Limits{MaxOutboxMessages: 10}, sandbox.KindABIViolation},
		{"malformed", testguest.WATMalformed, sandbox.Limits{}, sandbox.KindABIViolation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := caxtontest.NewRuntime(t)
			rt.MustSpawn(caxton.AgentSpec{Name: "native", Handler: echo()})
			rt.MustSpawn(caxton.AgentSpec{Name: "hostile",
				Wasm:     &caxton.WasmSpec{WAT: tc.code, Limits: tc.limits},
				Delivery: caxton.DeliveryPolicy{MaxAttempts: 2},
				Restart:  caxton.RestartPolicy{MaxRestarts: 10},
			})
			rt.MustSend(inform("attack", "hostile"))
			rt.AdvanceWhenWaiting(1, time.Second) // restart backoff
			rt.AdvanceWhenWaiting(1, time.Second) // retry backoff
			rt.AdvanceWhenWaiting(1, time.Second) // restart backoff
			d := rt.AwaitDeadLetters(1)[0]
			assert.Equal(t, "max attempts", d.Reason)
			assert.Equal(t, 2, d.Attempts)
			assert.Contains(t, d.LastError, tc.kind.String())
			var info caxton.AgentInfo
			caxtontest.Eventually(t, func() bool { info = must(rt.Agent("hostile")); return info.Restarts == 2 }, "two replacements")
			assert.Equal(t, caxton.StateRunning, info.State)
			// The runtime and the other agents keep working.
			assert.Equal(t, "still here", string(rt.MustRequest(request("still here", "native")).Content))
		})
	}
}

func TestHostileErrorsAreTyped(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "hostile", Wasm: &caxton.WasmSpec{WAT: testguest.WATUnreachable},
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 1}})
	rt.MustSend(inform("x", "hostile"))
	rt.AdvanceWhenWaiting(1, time.Second)
	d := rt.AwaitDeadLetters(1)[0]
	assert.Contains(t, d.LastError, "instance broken")
	assert.Contains(t, d.LastError, `sandbox: agent "hostile": unreachable`)
}

func TestGuestThatCannotStartFailsSpawn(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	for name, code := range map[string]string{
		"missing export": testguest.WATNoHandle,
		"wrong version":  testguest.WATWrongVersion,
		"foreign import": testguest.WATBadImport,
	} {
		t.Run(name, func(t *testing.T) {
			err := rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: "bad", Wasm: &caxton.WasmSpec{WAT: code}})
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sandbox.KindABIViolation, se.Kind)
			assert.Equal(t, acl.AgentID("bad"), se.Agent, "compile-time violations name the agent too")
			assert.NotContains(t, err.Error(), "NewHandler", "the spec used Wasm")
			_, err = rt.Agent("bad")
			assert.ErrorIs(t, err, caxton.ErrAgentNotFound, "nothing is left registered")
		})
	}
	err := rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: "x", Wasm: &caxton.WasmSpec{}})
	assert.ErrorIs(t, err, caxton.ErrInvalidSpec)
	err = rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: "x", Handler: echo(), Wasm: &caxton.WasmSpec{WAT: testguest.WATNop}})
	assert.ErrorIs(t, err, caxton.ErrInvalidSpec)
}

func TestForgedSenderIsRejectedAndLogged(t *testing.T) {
	var logs syncLog
	rt := caxtontest.NewRuntime(t, caxton.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	victim := caxtontest.NewRecorder(t, rt.Runtime, "victim")
	honest := &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"victim"}, Content: []byte("honest")}
	forged := &acl.Message{Performative: acl.Inform, Sender: "bank", Receivers: []acl.AgentID{"victim"}, Content: []byte("forged")}
	rt.MustSpawn(caxton.AgentSpec{Name: "liar", Wasm: &caxton.WasmSpec{WAT: testguest.WATOutbox(forged, honest)}})
	rt.MustSend(inform("go", "liar"))
	got := victim.Await(t, nil)
	assert.Equal(t, "honest", string(got.Content))
	assert.Equal(t, acl.AgentID("liar"), got.Sender)
	rt.MustSend(inform("marker", "victim"))
	assert.Equal(t, []string{"honest", "marker"}, contents(victim.AwaitN(t, 2)), "the forged message never arrived")
	assert.Contains(t, logs.String(), "forged sender rejected")
}

func TestTrapOnNthMessageReplacesInstanceAndRetries(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "third", BatchSize: 1, Wasm: &caxton.WasmSpec{WAT: testguest.WATTrapThird}})
	for range 3 {
		rt.MustSend(inform("m", "third"))
	}
	rt.AdvanceWhenWaiting(1, time.Second) // restart backoff after the 3rd call traps
	rt.AdvanceWhenWaiting(1, time.Second) // retry backoff
	caxtontest.Eventually(t, func() bool { return must(rt.Agent("third")).Processed == 3 }, "all three handled")
	info := must(rt.Agent("third"))
	assert.Equal(t, uint64(1), info.Restarts)
	assert.Equal(t, uint64(1), info.Failed)
	assert.Empty(t, must(rt.DeadLetters(context.Background())))
}

func TestCrashLoopMarksWasmAgentFailed(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "doomed", Wasm: &caxton.WasmSpec{WAT: testguest.WATUnreachable},
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 10}, Restart: caxton.RestartPolicy{MaxRestarts: 2}})
	rt.MustSend(inform("x", "doomed"))
	rt.AdvanceWhenWaiting(1, time.Second)
	rt.AdvanceWhenWaiting(1, time.Second)
	rt.AdvanceWhenWaiting(1, time.Second)
	rt.AdvanceWhenWaiting(1, time.Second)
	caxtontest.Eventually(t, func() bool { return must(rt.Agent("doomed")).State == caxton.StateFailed }, "the agent to be marked failed")
	d := rt.AwaitDeadLetters(1)[0]
	assert.Equal(t, "agent failed", d.Reason)
	assert.ErrorIs(t, rt.Send(caxtontest.Context(t), inform("y", "doomed")), caxton.ErrAgentFailed)
}

func TestBlockedGoGuestIsReplaced(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go guests")
	}
	rt := caxtontest.NewRuntime(t, cachedModules())
	rt.MustSpawn(caxton.AgentSpec{Name: "blocker", Wasm: &caxton.WasmSpec{Module: goGuest(t, "blocker")},
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 1}})
	rt.MustSend(request("block", "blocker"))
	rt.AdvanceWhenWaiting(1, time.Second)
	d := rt.AwaitDeadLetters(1)[0]
	assert.Contains(t, d.LastError, "unreachable")
	assert.Equal(t, "fine", string(rt.MustRequest(request("fine", "blocker")).Content), "a fresh instance serves on")
}

func TestOversizedMessageIsRejectedNotBatched(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go guests")
	}
	rt := caxtontest.NewRuntime(t, cachedModules())
	rt.MustSpawn(caxton.AgentSpec{Name: "echo", Wasm: &caxton.WasmSpec{Module: goGuest(t, "echo"), Limits: sandbox.Limits{MaxInboundMessage: 1024}}})
	big := request("", "echo")
	big.Content = bytes.Repeat([]byte("z"), 4096)
	rt.MustSend(big)
	d := rt.AwaitDeadLetters(1)[0]
	assert.Equal(t, "rejected by agent", d.Reason)
	assert.Contains(t, d.LastError, "at most 1024")
	assert.Equal(t, "small", string(rt.MustRequest(request("small", "echo")).Content))
}

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
