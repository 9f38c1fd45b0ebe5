package caxton_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
)

// The C agents are checked in as .wasm (rebuild with make -C guest/c).
func cAgent(name acl.AgentID, file string) caxton.AgentSpec {
	return caxton.AgentSpec{Name: name, Wasm: &caxton.WasmSpec{File: "guest/c/agents/" + file}}
}

func TestCGuestsConverseWithNativeAndGoAgents(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(cAgent("c-echo", "echo.wasm"))
	rt.MustSpawn(cAgent("c-counter", "counter.wasm"))
	rt.MustSpawn(cAgent("c-worker", "worker.wasm"))

	m := request("bonjour", "c-echo")
	m.Protocol, m.Ontology = "fipa-request", "greetings"
	reply := rt.MustRequest(m)
	assert.Equal(t, acl.Inform, reply.Performative)
	assert.Equal(t, "bonjour", string(reply.Content))
	assert.Equal(t, acl.AgentID("c-echo"), reply.Sender)
	assert.Equal(t, "fipa-request", reply.Protocol)
	assert.Equal(t, "greetings", reply.Ontology)
	assert.Equal(t, m.ReplyWith, reply.InReplyTo)

	for _, want := range []string{"1", "2", "3"} {
		assert.Equal(t, want, string(rt.MustRequest(request("tick", "c-counter")).Content))
	}

	// A native agent delegates to the C worker from inside its handler.
	rt.MustSpawn(caxton.AgentSpec{Name: "front", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		ans, err := mc.Request(ctx, request(string(mc.Message().Content), "c-worker"))
		if err != nil {
			return err
		}
		return mc.Reply(ctx, ans.Performative, ans.Content)
	})})
	got := rt.MustRequest(request("ticket 7", "front"))
	assert.Equal(t, "done:ticket 7", string(got.Content))
	assert.Equal(t, acl.NotUnderstood, rt.MustRequest(&acl.Message{Performative: acl.QueryRef, Receivers: []acl.AgentID{"c-worker"}}).Performative)
}

func TestCGuestBatchesManyMessagesInOneCall(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rec := caxtontest.NewRecorder(t, rt.Runtime, "sink")
	rt.MustSpawn(cAgent("c-echo", "echo.wasm"))
	ctx := caxtontest.Context(t)
	_ = rt.Stop(ctx, "c-echo")
	for range 50 {
		m := inform("x", "c-echo")
		m.ReplyTo = "sink"
		rt.MustSend(m)
	}
	_ = rt.Start(ctx, "c-echo")
	rec.AwaitN(t, 50)
	// A batch's replies go out before its messages are counted (the spans
	// end first: whoever sees the count sees them), so the count may trail
	// the last reply by a moment — under -race a CI run saw 0.
	caxtontest.Eventually(t, func() bool { return must(rt.Agent("c-echo")).Processed == 50 }, "50 messages counted as processed")
}
