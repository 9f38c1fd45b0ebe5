package mcpserver_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/mcp/mcpserver"
)

// srvConnect serves rt with New over in-memory transports and
// returns a connected client session, closed when the test ends.
func srvConnect(t *testing.T, rt *caxton.Runtime, opts ...mcpserver.Option) *sdk.ClientSession {
	t.Helper()
	server, err := mcpserver.New(rt, opts...)
	require.NoError(t, err)
	ctx := caxtontest.Context(t)
	st, ct := sdk.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	require.NoError(t, err)
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test-client", Version: "v0"}, nil).Connect(ctx, ct, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cs.Close()
		_ = ss.Wait()
	})
	return cs
}

// srvCall calls a tool; a protocol error fails the test (tool errors do
// not: they are results).
func srvCall(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) *sdk.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(caxtontest.Context(t), &sdk.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err, "tool %s", name)
	return res
}

// srvText joins a result's text content.
func srvText(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// srvOK checks that res succeeded and decodes its structured content.
func srvOK[T any](t *testing.T, res *sdk.CallToolResult) T {
	t.Helper()
	require.False(t, res.IsError, "tool error: %s", srvText(res))
	return srvDecode[T](t, res)
}

func srvDecode[T any](t *testing.T, res *sdk.CallToolResult) T {
	t.Helper()
	require.NotNil(t, res.StructuredContent, "no structured content: %s", srvText(res))
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var out T
	require.NoError(t, json.Unmarshal(raw, &out))
	// Typed tools also put the same JSON in a text block, for clients that
	// do not read structured content.
	var fromText T
	require.NoError(t, json.Unmarshal([]byte(res.Content[len(res.Content)-1].(*sdk.TextContent).Text), &fromText))
	assert.Equal(t, out, fromText)
	return out
}

type srvMessage struct {
	MessageID      string   `json:"message_id"`
	Performative   string   `json:"performative"`
	Sender         string   `json:"sender"`
	Receivers      []string `json:"receivers"`
	Content        string   `json:"content"`
	ContentBase64  string   `json:"content_base64"`
	ConversationID string   `json:"conversation_id"`
	InReplyTo      string   `json:"in_reply_to"`
	ReplyWith      string   `json:"reply_with"`
}

// srvEcho spawns an agent that answers every message with inform and the
// same content.
func srvEcho(t *testing.T, rt *caxtontest.Runtime, name acl.AgentID) {
	t.Helper()
	rt.MustSpawn(caxton.AgentSpec{Name: name, Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		return mc.Reply(ctx, acl.Inform, mc.Message().Content)
	})})
}

func TestServerListsToolsWithSchemas(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	cs := srvConnect(t, rt.Runtime)

	res, err := cs.ListTools(caxtontest.Context(t), nil)
	require.NoError(t, err)
	byName := map[string]*sdk.Tool{}
	for _, tool := range res.Tools {
		byName[tool.Name] = tool
	}
	want := []string{"list_agents", "send_message", "receive_messages", "request", "contract_net", "dead_letters", "replay_dead_letters"}
	assert.ElementsMatch(t, want, func() []string {
		var names []string
		for n := range byName {
			names = append(names, n)
		}
		return names
	}())
	for _, name := range want {
		tool := byName[name]
		require.NotNil(t, tool, name)
		assert.NotEmpty(t, tool.Description, name)
		in := srvSchema(t, tool.InputSchema)
		assert.Equal(t, "object", in["type"], name)
		out := srvSchema(t, tool.OutputSchema)
		assert.Equal(t, "object", out["type"], name)
		assert.NotEmpty(t, out["properties"], name)
	}

	// The model sees the valid values of enumerated arguments.
	perf := srvSchema(t, byName["send_message"].InputSchema)["properties"].(map[string]any)["performative"].(map[string]any)
	assert.Contains(t, perf["enum"], "inform")
	assert.Contains(t, perf["enum"], "query-ref")
	assert.Len(t, perf["enum"], 22)
	assert.NotEmpty(t, perf["description"])
	assert.Contains(t, srvSchema(t, byName["send_message"].InputSchema)["required"], "receivers")
	sel := srvSchema(t, byName["contract_net"].InputSchema)["properties"].(map[string]any)["selector"].(map[string]any)
	assert.ElementsMatch(t, []any{"lowest_cost", "highest_score", "first_n", "none"}, sel["enum"])
	// The annotations tell a client the truth: what only reads, what
	// consumes queue entries, what is safe to repeat.
	for name, want := range map[string]struct{ readOnly, destructive, idempotent bool }{
		"list_agents":         {readOnly: true},
		"dead_letters":        {readOnly: true},
		"send_message":        {},
		"request":             {},
		"contract_net":        {},
		"receive_messages":    {destructive: true},
		"replay_dead_letters": {destructive: true, idempotent: true},
	} {
		a := byName[name].Annotations
		require.NotNil(t, a, name)
		assert.Equal(t, want.readOnly, a.ReadOnlyHint, name)
		if !want.readOnly {
			require.NotNil(t, a.DestructiveHint, name)
			assert.Equal(t, want.destructive, *a.DestructiveHint, name)
		}
		assert.Equal(t, want.idempotent, a.IdempotentHint, name)
		require.NotNil(t, a.OpenWorldHint, name)
		assert.False(t, *a.OpenWorldHint, name)
	}
}

func srvSchema(t *testing.T, s any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(s)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func TestServerListAgents(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	caxtontest.NewRecorder(t, rt.Runtime, "auditor", caxtontest.RecorderSpec(func(s *caxton.AgentSpec) {
		s.Topics = []string{"audit"}
		s.Replicas = 2
	}))
	rt.MustSpawn(caxton.AgentSpec{Name: "carrier", Capabilities: []string{"transport"},
		Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { return nil })})
	require.NoError(t, rt.Stop(caxtontest.Context(t), "carrier"))
	cs := srvConnect(t, rt.Runtime)

	type agent struct {
		Name         string   `json:"name"`
		State        string   `json:"state"`
		Replicas     int      `json:"replicas"`
		QueueDepth   int      `json:"queue_depth"`
		Processed    uint64   `json:"processed"`
		DeadLettered uint64   `json:"dead_lettered"`
		Topics       []string `json:"topics"`
		Capabilities []string `json:"capabilities"`
	}
	type listing struct {
		Agents       []agent `json:"agents"`
		Inbox        string  `json:"inbox"`
		InboxWaiting int     `json:"inbox_waiting"`
		DeadLetters  int     `json:"dead_letters"`
	}
	// A message to the stopped agent waits in its queue.
	srvOK[map[string]any](t, srvCall(t, cs, "send_message", map[string]any{"performative": "inform", "receivers": []string{"carrier"}}))

	all := srvOK[listing](t, srvCall(t, cs, "list_agents", nil))
	assert.Equal(t, "mcp", all.Inbox)
	assert.Equal(t, []agent{
		{Name: "auditor", State: "running", Replicas: 2, Topics: []string{"audit"}, Capabilities: []string{}},
		{Name: "carrier", State: "stopped", Replicas: 1, QueueDepth: 1, Topics: []string{}, Capabilities: []string{"transport"}},
	}, all.Agents)

	for _, tc := range []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"capability": "transport"}, []string{"carrier"}},
		{map[string]any{"topic": "audit"}, []string{"auditor"}},
		{map[string]any{"topic": "topic:audit"}, []string{"auditor"}},
		{map[string]any{"topic": "audit", "capability": "transport"}, []string{}},
		{map[string]any{"capability": "flying"}, []string{}},
	} {
		got := srvOK[listing](t, srvCall(t, cs, "list_agents", tc.args))
		names := []string{}
		for _, a := range got.Agents {
			names = append(names, a.Name)
		}
		assert.Equal(t, tc.want, names, "%v", tc.args)
	}
}

func TestServerSendMessageReachesRecorder(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "auditor")
	cs := srvConnect(t, rt.Runtime)

	type sent struct {
		MessageID      string   `json:"message_id"`
		Sender         string   `json:"sender"`
		Receivers      []string `json:"receivers"`
		ConversationID string   `json:"conversation_id"`
	}
	out := srvOK[sent](t, srvCall(t, cs, "send_message", map[string]any{
		"performative": "inform", "receivers": []string{"auditor"}, "content": `{"amount":12}`,
		"conversation_id": "c-1", "protocol": "fipa-request", "ontology": "billing", "language": "json",
	}))
	got := rec.Await(t, acl.MatchPerformative(acl.Inform))
	assert.Equal(t, got.ID.String(), out.MessageID)
	assert.Equal(t, sent{MessageID: out.MessageID, Sender: "mcp", Receivers: []string{"auditor"}, ConversationID: "c-1"}, out)
	assert.Equal(t, acl.AgentID("mcp"), got.Sender)
	assert.Equal(t, `{"amount":12}`, string(got.Content))
	assert.Equal(t, "fipa-request", got.Protocol)
	assert.Equal(t, "billing", got.Ontology)
	assert.Equal(t, "json", got.Language)
}

func TestServerSendThenReceiveReplies(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	caxtontest.NewRecorder(t, rt.Runtime, "clerk", caxtontest.RecorderReply(func(in *acl.Message) *acl.Message {
		r := in.CreateReply(acl.Agree)
		r.Content = []byte("on it: " + string(in.Content))
		return r
	}))
	cs := srvConnect(t, rt.Runtime)

	srvOK[map[string]any](t, srvCall(t, cs, "send_message", map[string]any{
		"performative": "request", "receivers": []string{"clerk"}, "content": "file it", "conversation_id": "c-7", "reply_with": "r-1",
	}))
	type inbox struct {
		Messages  []srvMessage `json:"messages"`
		Remaining int          `json:"remaining"`
	}
	// wait_ms: the reply may still be on its way; no clock advance is
	// needed because it arrives long before the wait would end.
	got := srvOK[inbox](t, srvCall(t, cs, "receive_messages", map[string]any{"wait_ms": 5000}))
	require.Len(t, got.Messages, 1)
	m := got.Messages[0]
	assert.Equal(t, "agree", m.Performative)
	assert.Equal(t, "clerk", m.Sender)
	assert.Equal(t, "on it: file it", m.Content)
	assert.Equal(t, "c-7", m.ConversationID)
	assert.Equal(t, "r-1", m.InReplyTo)
	assert.Equal(t, 0, got.Remaining)

	// Nothing more: it returns at once, empty.
	assert.Empty(t, srvOK[inbox](t, srvCall(t, cs, "receive_messages", nil)).Messages)
}

func TestServerReceiveFiltersAndWaitsOnTheRuntimeClock(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	cs := srvConnect(t, rt.Runtime)
	for i, conv := range []string{"a", "b", "a"} {
		rt.MustSend(&acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"mcp"}, ConversationID: conv,
			Content: []byte{byte('0' + i)}})
	}
	rt.MustSend(&acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"mcp"}, Content: []byte{0xff, 0xfe}})
	type inbox struct {
		Messages  []srvMessage `json:"messages"`
		Remaining int          `json:"remaining"`
	}
	got := srvOK[inbox](t, srvCall(t, cs, "receive_messages", map[string]any{"conversation_id": "a"}))
	require.Len(t, got.Messages, 2)
	assert.Equal(t, []string{"0", "2"}, []string{got.Messages[0].Content, got.Messages[1].Content})
	assert.Equal(t, 2, got.Remaining)

	got = srvOK[inbox](t, srvCall(t, cs, "receive_messages", map[string]any{"max": 1}))
	require.Len(t, got.Messages, 1)
	assert.Equal(t, "1", got.Messages[0].Content)
	got = srvOK[inbox](t, srvCall(t, cs, "receive_messages", nil))
	require.Len(t, got.Messages, 1)
	assert.Equal(t, "", got.Messages[0].Content)
	assert.Equal(t, "//4=", got.Messages[0].ContentBase64, "binary content travels as base64")

	// An empty inbox with wait_ms waits for the runtime clock.
	done := make(chan *sdk.CallToolResult, 1)
	go func() {
		res, _ := cs.CallTool(caxtontest.Context(t), &sdk.CallToolParams{Name: "receive_messages", Arguments: map[string]any{"wait_ms": 3000}})
		done <- res
	}()
	rt.AdvanceWhenWaiting(1, 3*time.Second)
	res := <-done
	require.NotNil(t, res)
	assert.Empty(t, srvOK[inbox](t, res).Messages)
}

func TestServerRequestReturnsTheReply(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	srvEcho(t, rt, "echo")
	caxtontest.NewRecorder(t, rt.Runtime, "oracle", caxtontest.RecorderReply(func(in *acl.Message) *acl.Message {
		r := in.CreateReply(acl.Refuse)
		r.Content = []byte("not telling")
		return r
	}))
	cs := srvConnect(t, rt.Runtime)

	for _, tc := range []struct {
		args map[string]any
		want srvMessage
	}{
		{map[string]any{"receivers": []string{"echo"}, "content": "ping"},
			srvMessage{Performative: "inform", Sender: "echo", Content: "ping", Receivers: []string{"mcp"}}},
		{map[string]any{"receivers": []string{"echo"}, "content": "hi", "conversation_id": "conv-9", "timeout_ms": 1000},
			srvMessage{Performative: "inform", Sender: "echo", Content: "hi", Receivers: []string{"mcp"}, ConversationID: "conv-9"}},
		{map[string]any{"performative": "query-ref", "receivers": []string{"oracle"}, "content": "the answer?"},
			srvMessage{Performative: "refuse", Sender: "oracle", Content: "not telling", Receivers: []string{"mcp"}}},
	} {
		got := srvOK[srvMessage](t, srvCall(t, cs, "request", tc.args))
		assert.NotEmpty(t, got.MessageID)
		assert.NotEmpty(t, got.InReplyTo, "the reply answers the request")
		assert.NotEmpty(t, got.ConversationID)
		got.MessageID, got.InReplyTo, got.ReplyWith = "", "", ""
		if tc.want.ConversationID == "" {
			got.ConversationID = ""
		}
		assert.Equal(t, tc.want, got, "%v", tc.args)
	}
}

func TestServerRequestTimesOutOnTheRuntimeClock(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "mute") // never answers
	cs := srvConnect(t, rt.Runtime)

	done := make(chan *sdk.CallToolResult, 1)
	go func() {
		res, err := cs.CallTool(caxtontest.Context(t), &sdk.CallToolParams{Name: "request",
			Arguments: map[string]any{"receivers": []string{"mute"}, "content": "anyone?", "timeout_ms": 2500}})
		assert.NoError(t, err)
		done <- res
	}()
	rec.Await(t, nil)
	rt.AdvanceWhenWaiting(1, 2500*time.Millisecond)
	res := <-done
	require.NotNil(t, res)
	assert.True(t, res.IsError)
	text := srvText(res)
	assert.Contains(t, text, "no reply from mute within 2.5s (timeout_ms)")
	assert.Contains(t, text, "receive_messages")

	// The request carried its deadline as reply-by.
	assert.Equal(t, rec.Messages()[0].CreatedAt.Add(2500*time.Millisecond), rec.Messages()[0].ReplyBy)
}

func TestServerRejectsBadArgumentsNamingTheField(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	srvEcho(t, rt, "echo")
	cs := srvConnect(t, rt.Runtime, mcpserver.WithTimeouts(time.Second, 5*time.Second))

	for _, tc := range []struct {
		name string
		tool string
		args map[string]any
		want []string // substrings of the error text
	}{
		{"unknown performative", "send_message", map[string]any{"performative": "shout", "receivers": []string{"echo"}}, []string{"performative"}},
		{"missing performative", "send_message", map[string]any{"receivers": []string{"echo"}}, []string{"performative"}},
		{"empty receivers", "send_message", map[string]any{"performative": "inform", "receivers": []string{}}, []string{`"receivers"`, "at least one"}},
		{"missing receivers", "send_message", map[string]any{"performative": "inform"}, []string{"receivers"}},
		{"receivers not a list", "send_message", map[string]any{"performative": "inform", "receivers": "echo"}, []string{"receivers"}},
		{"bad agent name", "send_message", map[string]any{"performative": "inform", "receivers": []string{"echo", "no spaces!"}}, []string{`"receivers[1]"`, "invalid character"}},
		{"duplicate receiver", "send_message", map[string]any{"performative": "inform", "receivers": []string{"echo", "echo"}}, []string{`"receivers[1]"`, "twice"}},
		{"unknown agent", "send_message", map[string]any{"performative": "inform", "receivers": []string{"ghost"}}, []string{"unknown agent", "ghost"}},
		{"topic nobody reads", "send_message", map[string]any{"performative": "inform", "receivers": []string{"topic:void"}}, []string{"nobody subscribes"}},
		{"bad conversation id", "send_message", map[string]any{"performative": "inform", "receivers": []string{"echo"}, "conversation_id": "a\nb"}, []string{"conversation_id"}},
		{"unexpected argument", "send_message", map[string]any{"performative": "inform", "receivers": []string{"echo"}, "priority": "high"}, []string{"priority"}},
		{"negative timeout", "request", map[string]any{"receivers": []string{"echo"}, "timeout_ms": -5}, []string{`"timeout_ms"`, "negative"}},
		{"timeout above the limit", "request", map[string]any{"receivers": []string{"echo"}, "timeout_ms": 60000}, []string{`"timeout_ms"`, "limit of 5000 ms"}},
		{"round waits over the limit", "contract_net", map[string]any{"task": "t", "participants": []string{"echo"}, "deadline_ms": 4000, "result_timeout_ms": 4000}, []string{`"result_timeout_ms"`, "at most 5000 ms in all"}},
		{"deadline leaves no time", "contract_net", map[string]any{"task": "t", "participants": []string{"echo"}, "deadline_ms": 5000}, []string{`"deadline_ms"`, "no time to report"}},
		{"request to unknown agent", "request", map[string]any{"receivers": []string{"ghost"}}, []string{"unknown agent", "ghost"}},
		{"request bad performative", "request", map[string]any{"performative": "beg", "receivers": []string{"echo"}}, []string{"performative"}},
		{"receive negative max", "receive_messages", map[string]any{"max": -1}, []string{`"max"`}},
		{"receive max too big", "receive_messages", map[string]any{"max": 1000}, []string{`"max"`}},
		{"receive negative wait", "receive_messages", map[string]any{"wait_ms": -1}, []string{`"wait_ms"`}},
		{"cnet nobody", "contract_net", map[string]any{"task": "x"}, []string{`"participants"`}},
		{"cnet no task", "contract_net", map[string]any{"participants": []string{"echo"}}, []string{"task"}},
		{"cnet empty task", "contract_net", map[string]any{"task": "", "participants": []string{"echo"}}, []string{`"task"`}},
		{"cnet bad participant", "contract_net", map[string]any{"task": "x", "participants": []string{"a b"}}, []string{`"participants[0]"`}},
		{"cnet topic participant", "contract_net", map[string]any{"task": "x", "participants": []string{"topic:news"}}, []string{`"participants[0]"`, "topic"}},
		{"cnet bad capability", "contract_net", map[string]any{"task": "x", "capability": "fly away"}, []string{`"capability"`}},
		{"cnet negative deadline", "contract_net", map[string]any{"task": "x", "participants": []string{"echo"}, "deadline_ms": -1}, []string{`"deadline_ms"`}},
		{"cnet result timeout too long", "contract_net", map[string]any{"task": "x", "participants": []string{"echo"}, "result_timeout_ms": 9000}, []string{`"result_timeout_ms"`}},
		{"cnet unknown selector", "contract_net", map[string]any{"task": "x", "participants": []string{"echo"}, "selector": "best"}, []string{"selector"}},
		{"cnet negative n", "contract_net", map[string]any{"task": "x", "participants": []string{"echo"}, "n": -2}, []string{`"n"`}},
		{"cnet n with none", "contract_net", map[string]any{"task": "x", "participants": []string{"echo"}, "selector": "none", "n": 2}, []string{`"n"`}},
		{"cnet unknown capability", "contract_net", map[string]any{"task": "x", "capability": "teleport"}, []string{"nobody to ask"}},
		{"dead letters negative limit", "dead_letters", map[string]any{"limit": -1}, []string{`"limit"`}},
		{"replay no ids", "replay_dead_letters", map[string]any{"ids": []string{}}, []string{`"ids"`}},
		{"replay empty id", "replay_dead_letters", map[string]any{"ids": []string{""}}, []string{`"ids[0]"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := srvCall(t, cs, tc.tool, tc.args)
			require.True(t, res.IsError, "want a tool error, got %s", srvText(res))
			t.Log(srvText(res))
			for _, w := range tc.want {
				assert.Contains(t, srvText(res), w)
			}
		})
	}
	assert.Zero(t, rt.Inbox().Len())
}

// An MCP client cannot answer someone else's question: a send_message with
// the conversation id (and in-reply-to) of an agent's pending Request to
// another agent is an ordinary message to that agent, and the Request still
// gets the real reply (the field report's spoofing path).
func TestServerSendMessageCannotSpoofAReply(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	asked := make(chan *acl.Message, 1)
	release := make(chan struct{})
	rt.MustSpawn(caxton.AgentSpec{Name: "bank", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		asked <- mc.Message()
		<-release
		return mc.Reply(ctx, acl.Inform, []byte("balance: 10"))
	})})
	got := make(chan string, 2)
	rt.MustSpawn(caxton.AgentSpec{Name: "clerk", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if mc.Message().Performative != acl.Request {
			got <- "stray: " + string(mc.Message().Content) // the spoof, after the clerk's handler returned
			return nil
		}
		ans, err := mc.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"bank"}})
		if err != nil {
			return err
		}
		got <- "reply: " + string(ans.Content)
		return nil
	})})
	cs := srvConnect(t, rt.Runtime)
	rt.MustSend(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"clerk"}})
	var inner *acl.Message
	select {
	case inner = <-asked:
	case <-time.After(caxtontest.DefaultTimeout):
		t.Fatal("the clerk never asked the bank")
	}
	srvOK[map[string]any](t, srvCall(t, cs, "send_message", map[string]any{
		"performative": "inform", "receivers": []string{"clerk"}, "content": "balance: 1000000",
		"conversation_id": inner.ConversationID, "in_reply_to": inner.ReplyWith,
	}))
	close(release)
	for _, want := range []string{"reply: balance: 10", "stray: balance: 1000000"} {
		select {
		case g := <-got:
			assert.Equal(t, want, g)
		case <-time.After(caxtontest.DefaultTimeout):
			t.Fatalf("no %q", want)
		}
	}
}
