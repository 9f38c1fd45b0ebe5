package conformance_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/guest/python"
	"github.com/caxton-go/caxton/internal/conformance"
	"github.com/caxton-go/caxton/internal/testenv"
	"github.com/caxton-go/caxton/protocol"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// moduleCache is where the suite's runtimes share compiled guests, so that
// a cold compile of a large module on a busy machine is not charged to a
// Spawn bounded by caxtontest.DefaultTimeout. It is the root package's
// test cache: what one test binary compiled (the Python and JavaScript
// engines take tens of seconds cold), the other loads — the cache's files
// are written atomically and sealed, so two processes may share it.
var moduleCache = testenv.ModuleCache()

var (
	compiledMu sync.Mutex
	compiled   = map[[32]byte]bool{}
)

// forEach runs test once per language, as a subtest named after it.
func forEach(t *testing.T, test func(t *testing.T, lang conformance.Language)) {
	for _, lang := range conformance.Languages() {
		t.Run(lang.Name, func(t *testing.T) { test(t, lang) })
	}
}

// newRuntime is a test runtime whose wasm modules are compiled once per
// machine (in moduleCache), with extra options.
func newRuntime(t *testing.T, opts ...caxton.Option) *caxtontest.Runtime {
	return caxtontest.NewRuntime(t, append([]caxton.Option{caxton.WithSandboxCacheDir(moduleCache), caxton.WithJavaScript(js.Engine()), caxton.WithPython(python.Engine())}, opts...)...)
}

// spawn deploys the role's agent as name, after edit adjusts its spec.
func spawn(t *testing.T, rt *caxtontest.Runtime, lang conformance.Language, role string, agent conformance.Agent, name acl.AgentID, edit func(*caxton.AgentSpec)) {
	t.Helper()
	require.NotNil(t, agent, "language %s has no %s agent", lang.Name, role)
	w := agent(t)
	switch {
	case len(w.Module) > 0:
		precompile(t, w.Module)
	case w.JavaScript != "":
		precompile(t, js.Engine())
	case w.Python != "":
		precompile(t, python.Engine())
	}
	spec := caxton.AgentSpec{Name: name, Wasm: &w}
	if edit != nil {
		edit(&spec)
	}
	// With CAXTON_TEST_PREINIT=1 every agent starts from its pre-initialised
	// module (WasmSpec.Preinit): the whole suite then checks that a baked
	// guest behaves as a fresh one. CI runs the suite both ways.
	spec.Wasm.Preinit = os.Getenv("CAXTON_TEST_PREINIT") == "1"
	rt.MustSpawn(spec)
}

func precompile(t *testing.T, module []byte) {
	t.Helper()
	key := sha256.Sum256(module)
	compiledMu.Lock()
	defer compiledMu.Unlock()
	if compiled[key] {
		return
	}
	e, err := sandbox.NewEngine(sandbox.WithCacheDir(moduleCache))
	require.NoError(t, err)
	defer e.Close()
	_, err = e.Compile(context.Background(), module)
	require.NoError(t, err)
	compiled[key] = true
}

func msg(p acl.Performative, content string, to, replyTo acl.AgentID) *acl.Message {
	return &acl.Message{Performative: p, Receivers: []acl.AgentID{to}, ReplyTo: replyTo, Content: []byte(content)}
}

func contents(ms []*acl.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Content)
	}
	return out
}

// Every ACL field crosses the ABI into the guest and back out: the mirror
// copies what it can send and reports the rest (sender, id, creation time,
// receivers) in params.
func TestEveryACLFieldRoundTrips(t *testing.T) {
	forEach(t, func(t *testing.T, lang conformance.Language) {
		rt := newRuntime(t)
		sink := caxtontest.NewRecorder(t, rt.Runtime, "sink")
		spawn(t, rt, lang, "mirror", lang.Mirror, "mirror", nil)
		now := rt.Clock.Now()
		in := &acl.Message{
			ID: acl.NewID(), Performative: acl.Propose, Sender: "client", Receivers: []acl.AgentID{"mirror"},
			ReplyTo: "sink", Content: []byte{0, 1, 2, 0xfe, 0xff, 'x'}, Language: "json", Encoding: "utf-8",
			Ontology: "ünïcode-ontology", Protocol: "fipa-contract-net", ConversationID: "conv-1",
			ReplyWith: "rw-1", InReplyTo: "irt-0", ReplyBy: now.Add(time.Hour + 123), CreatedAt: now.Add(-456),
			Priority: acl.PriorityHigh, TraceContext: map[string]string{"tracestate": "k=v"},
			Params: map[string]string{"X-A": "1", "X-Empty": "", "X-Uni": "ünï ✓"},
		}
		rt.MustSend(in.Clone())
		got := sink.Await(t, nil)
		assert.Equal(t, acl.AgentID("mirror"), got.Sender, "the host stamps the sender")
		assert.Equal(t, []acl.AgentID{"sink"}, got.Receivers)
		for _, f := range []struct {
			name      string
			got, want any
		}{
			{"performative", got.Performative, in.Performative},
			{"priority", got.Priority, in.Priority},
			{"reply-to", got.ReplyTo, in.ReplyTo},
			{"content", got.Content, in.Content},
			{"language", got.Language, in.Language},
			{"encoding", got.Encoding, in.Encoding},
			{"ontology", got.Ontology, in.Ontology},
			{"protocol", got.Protocol, in.Protocol},
			{"conversation-id", got.ConversationID, in.ConversationID},
			{"reply-with", got.ReplyWith, in.ReplyWith},
			{"in-reply-to", got.InReplyTo, in.InReplyTo},
			{"reply-by", got.ReplyBy.UnixNano(), in.ReplyBy.UnixNano()},
			{"trace context", got.TraceContext["tracestate"], "k=v"},
			{"sender (seen)", got.Params["X-Sender"], "client"},
			{"id (seen)", got.Params["X-Id"], in.ID.String()},
			{"created-at (seen)", got.Params["X-Created-At"], strconv.FormatInt(in.CreatedAt.UnixNano(), 10)},
			{"receivers (seen)", got.Params["X-Receivers"], "mirror"},
		} {
			assert.Equal(t, f.want, f.got, f.name)
		}
		for k, v := range in.Params {
			assert.Equal(t, v, got.Params[k], "param %s", k)
		}
	})
}

// A batch is handled in order and answered in order; an agent's state
// lives as long as its instance, across batches.
func TestOrderingAndState(t *testing.T) {
	forEach(t, func(t *testing.T, lang conformance.Language) {
		rt := newRuntime(t)
		sink := caxtontest.NewRecorder(t, rt.Runtime, "sink")
		spawn(t, rt, lang, "echo", lang.Echo, "echo", nil)
		spawn(t, rt, lang, "counter", lang.Counter, "counter", nil)
		ctx := caxtontest.Context(t)
		require.NoError(t, rt.Stop(ctx, "echo")) // the messages queue up: one batch
		require.NoError(t, rt.Stop(ctx, "counter"))
		var want []string
		for i := range 100 {
			want = append(want, "m-"+strconv.Itoa(i))
			rt.MustSend(msg(acl.Inform, want[i], "echo", "sink"))
		}
		require.NoError(t, rt.Start(ctx, "echo"))
		assert.Equal(t, want, contents(sink.AwaitN(t, 100)))

		var counts []string
		for i := 1; i <= 20; i++ {
			counts = append(counts, strconv.Itoa(i))
			rt.MustSend(msg(acl.Request, "tick", "counter", "sink"))
		}
		require.NoError(t, rt.Start(ctx, "counter"))
		assert.Equal(t, counts, contents(sink.AwaitN(t, 120)[100:]))
		assert.Equal(t, "21", string(rt.MustRequest(msg(acl.Request, "tick", "counter", "")).Content), "a later batch")
		assert.Equal(t, "22", string(rt.MustRequest(msg(acl.Request, "tick", "counter", "")).Content))
	})
}

// A message the agent does not understand is answered not-understood
// without failing its batch; one larger than the sandbox takes is rejected
// by the host alone, and the agent serves on.
func TestPerMessageRejection(t *testing.T) {
	forEach(t, func(t *testing.T, lang conformance.Language) {
		rt := newRuntime(t)
		sink := caxtontest.NewRecorder(t, rt.Runtime, "sink")
		spawn(t, rt, lang, "worker", lang.Worker, "worker", func(s *caxton.AgentSpec) {
			s.Wasm.Limits.MaxInboundMessage = 1024
		})
		ctx := caxtontest.Context(t)
		require.NoError(t, rt.Stop(ctx, "worker"))
		rt.MustSend(msg(acl.Request, "a", "worker", "sink"))
		rt.MustSend(msg(acl.QueryRef, "b", "worker", "sink"))
		rt.MustSend(msg(acl.Request, strings.Repeat("z", 4096), "worker", "sink"))
		rt.MustSend(msg(acl.Request, "c", "worker", "sink"))
		require.NoError(t, rt.Start(ctx, "worker"))
		got := sink.AwaitN(t, 3)
		assert.Equal(t, []acl.Performative{acl.Inform, acl.NotUnderstood, acl.Inform},
			[]acl.Performative{got[0].Performative, got[1].Performative, got[2].Performative})
		assert.Equal(t, "done:a", string(got[0].Content))
		assert.Equal(t, "done:c", string(got[2].Content))
		d := rt.AwaitDeadLetters(1)
		require.Len(t, d, 1)
		assert.Equal(t, "rejected by agent", d[0].Reason)
		assert.Contains(t, d[0].LastError, "at most 1024")
		info, err := rt.Agent("worker")
		require.NoError(t, err)
		assert.Zero(t, info.Restarts)
	})
}

// A failure worth retrying is retried up to the delivery policy's
// attempts; a permanent one is dead-lettered at once. Neither breaks the
// instance.
func TestFailures(t *testing.T) {
	forEach(t, func(t *testing.T, lang conformance.Language) {
		rt := newRuntime(t)
		spawn(t, rt, lang, "probe", lang.Probe, "probe", func(s *caxton.AgentSpec) {
			s.Delivery = caxton.DeliveryPolicy{MaxAttempts: 3}
		})
		rt.MustSend(msg(acl.Request, "fatal", "probe", ""))
		d := rt.AwaitDeadLetters(1)[0]
		assert.Equal(t, "permanent failure", d.Reason)
		assert.Equal(t, 1, d.Attempts)

		rt.MustSend(msg(acl.Request, "fail", "probe", ""))
		rt.AdvanceWhenWaiting(1, time.Minute) // retry backoff
		rt.AdvanceWhenWaiting(1, time.Minute)
		d = rt.AwaitDeadLetters(2)[1]
		assert.Equal(t, "max attempts", d.Reason)
		assert.Equal(t, 3, d.Attempts)

		assert.Equal(t, "ok:still here", string(rt.MustRequest(msg(acl.Request, "still here", "probe", "")).Content))
		info, err := rt.Agent("probe")
		require.NoError(t, err)
		assert.Zero(t, info.Restarts, "a handler failure keeps the instance")
	})
}

// upperToolbox has one tool, "upper", which upper-cases {"text": ...}.
type upperToolbox struct{}

func (upperToolbox) CallTool(_ context.Context, c tool.Call) tool.Result {
	if !c.Grant.Allows(c.Tool) {
		return tool.Result{Status: tool.StatusDenied, Content: []byte("not granted: " + c.Tool)}
	}
	var a struct{ Text string }
	if err := json.Unmarshal(c.Arguments, &a); err != nil {
		return tool.Result{Status: tool.StatusBadArguments, Content: []byte(err.Error())}
	}
	return tool.Result{Content: []byte(strings.ToUpper(a.Text))}
}

// A granted tool answers; one not granted is a denied status, not a trap.
func TestToolCalls(t *testing.T) {
	forEach(t, func(t *testing.T, lang conformance.Language) {
		rt := newRuntime(t, caxton.WithToolbox(upperToolbox{}))
		spawn(t, rt, lang, "probe", lang.Probe, "probe", func(s *caxton.AgentSpec) {
			s.Tools = tool.Grant{Allow: []string{"upper"}}
		})
		call := func(content string) string {
			return string(rt.MustRequest(msg(acl.Request, content, "probe", "")).Content)
		}
		assert.Equal(t, fmt.Sprintf("%d:WASM ✓", tool.StatusOK), call(`tool:upper:{"text":"wasm ✓"}`))
		got := call(`tool:delete:{"path":"/"}`)
		assert.True(t, strings.HasPrefix(got, fmt.Sprintf("%d:", tool.StatusDenied)), got)
	})
}

// What a guest logs reaches the runtime's logs under the agent's name.
func TestLogCapture(t *testing.T) {
	forEach(t, func(t *testing.T, lang conformance.Language) {
		rt := newRuntime(t)
		spawn(t, rt, lang, "probe", lang.Probe, "probe", nil)
		text := "hello from " + lang.Name + " ✓"
		assert.Equal(t, "logged", string(rt.MustRequest(msg(acl.Request, "log:"+text, "probe", "")).Content))
		logs, err := rt.Logs("probe", time.Time{})
		require.NoError(t, err)
		var found bool
		for _, r := range logs {
			if strings.Contains(r.Message, text) {
				found = true
				assert.Equal(t, acl.AgentID("probe"), r.Agent)
			}
		}
		assert.True(t, found, "%q not among %v", text, logs)
	})
}

// A guest that outgrows its memory, overruns its deadline or burns its fuel
// is stopped, its message dead-lettered with the limit named, and a fresh
// instance serves on.
func TestLimitsAreContained(t *testing.T) {
	cases := []struct {
		name    string
		content string
		limits  sandbox.Limits
		kind    sandbox.Kind
	}{
		// A generous deadline where it is not the limit under test, so a
		// loaded machine cannot make the deadline fire first. The deadline
		// also bounds an instance's start (a Go guest's runtime set-up,
		// ~3 ms, far more on a loaded machine), so it is not tiny either.
		{"memory", "grow:64", sandbox.Limits{MaxMemory: 32 << 20, BatchDeadline: time.Minute}, sandbox.KindMemory},
		{"deadline", "spin", sandbox.Limits{BatchDeadline: 500 * time.Millisecond}, sandbox.KindDeadline},
		{"fuel", "spin", sandbox.Limits{FuelPerBatch: 50_000_000, BatchDeadline: time.Minute}, sandbox.KindOutOfFuel},
	}
	forEach(t, func(t *testing.T, lang conformance.Language) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rt := newRuntime(t)
				spawn(t, rt, lang, "probe", lang.Probe, "probe", func(s *caxton.AgentSpec) {
					s.Wasm.Limits = tc.limits
					s.Delivery = caxton.DeliveryPolicy{MaxAttempts: 1}
				})
				rt.MustSend(msg(acl.Request, tc.content, "probe", ""))
				rt.AdvanceWhenWaiting(1, time.Minute) // restart backoff
				d := rt.AwaitDeadLetters(1)[0]
				assert.Contains(t, d.LastError, tc.kind.String())
				assert.Equal(t, "ok:after", string(rt.MustRequest(msg(acl.Request, "after", "probe", "")).Content))
				info, err := rt.Agent("probe")
				require.NoError(t, err)
				assert.Equal(t, uint64(1), info.Restarts)
			})
		}
	})
}

// One Contract Net round per language with a bidder from every language,
// the round's language chosen whatever its price: every bidder proposes
// each time, is rejected in the other languages' rounds and executes in
// its own.
func TestContractNetAcrossLanguages(t *testing.T) {
	rt := newRuntime(t)
	langs := conformance.Languages()
	var bidders []acl.AgentID
	for i, lang := range langs {
		name := acl.AgentID(lang.Name + "-bidder")
		bidders = append(bidders, name)
		rate := strconv.FormatFloat(1+float64(i)/10, 'f', -1, 64)
		spawn(t, rt, lang, "bidder", lang.Bidder, name, func(s *caxton.AgentSpec) {
			s.Capabilities = []string{"compute"}
			s.Wasm.Grants.Env = map[string]string{"RATE": rate}
		})
	}
	for i, lang := range langs {
		t.Run(lang.Name, func(t *testing.T) {
			winner := bidders[i]
			cfp := acl.New(acl.CFP, contractnet.Capability("compute"))
			cfp.Content = []byte(`{"name":"job-` + lang.Name + `","kind":"text","size":10}`)
			cfp.Language = "json"
			cfp.ReplyBy = rt.Clock.Now().Add(time.Minute)
			res := runRound(t, rt, cfp, winner)
			require.Len(t, res.Rounds, 1)
			props := res.Rounds[0].Proposals
			require.Len(t, props, len(langs), "every language's bidder proposes (refused: %v, not understood: %v)",
				res.Rounds[0].Refused, res.Rounds[0].NotUnderstood)
			for _, p := range props {
				o, err := p.Offer()
				require.NoError(t, err, "%s's offer", p.From)
				k := slices.Index(bidders, p.From)
				require.GreaterOrEqual(t, k, 0, "a proposal from %s", p.From)
				assert.InDelta(t, 10*(1+float64(k)/10), o.Cost, 1e-9, "%s's cost", p.From)
			}
			require.Len(t, res.Outcomes, 1)
			out := res.Outcomes[0]
			assert.Equal(t, winner, out.Participant)
			require.True(t, out.OK(), "%s: %s %s", winner, out.Status, out.Reason)
			assert.True(t, bytes.HasPrefix(out.Message.Content, []byte("job-"+lang.Name+": ")), string(out.Message.Content))
		})
	}
}

// runRound runs one Contract Net negotiation from an auctioneer inbox,
// accepting winner's proposal whatever it costs.
func runRound(t *testing.T, rt *caxtontest.Runtime, cfp *acl.Message, winner acl.AgentID) *contractnet.Result {
	t.Helper()
	ib, err := rt.NewInbox("auctioneer-" + winner)
	require.NoError(t, err)
	client := protocol.NewClient(ib)
	defer client.Close()
	in := &contractnet.Initiator{Client: client, Directory: rt.Runtime,
		Select: func(context.Context, *contractnet.Round) (contractnet.Decision, error) {
			return contractnet.Decision{Accept: []acl.AgentID{winner}}, nil
		}}
	res, err := in.Run(caxtontest.Context(t), cfp)
	require.NoError(t, err)
	return res
}
