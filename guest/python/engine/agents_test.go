package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadAgent(t *testing.T, name string) *interp {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "agents", name+".py"))
	require.NoError(t, err)
	return mustLoad(t, string(b))
}

func text(p acl.Performative, content string) *acl.Message {
	return &acl.Message{Performative: p, Sender: "alice", Receivers: []acl.AgentID{"py"}, Content: []byte(content)}
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
		{"probe", text(acl.Request, "hello"), acl.Inform, "ok:hello"},
		{"probe", text(acl.Request, "log:note"), acl.Inform, "logged"},
		{"probe", text(acl.Request, "grow:2"), acl.Inform, "grew"},
		{"probe", text(acl.Request, `tool:add:{"a":1}`), acl.Inform, "0:3"},
		{"probe", text(acl.Request, `tool:rm:{}`), acl.Inform, "2:not granted"},
	}
	for _, tt := range tests {
		t.Run(tt.agent+"/"+tt.in.Performative.String()+"/"+string(tt.in.Content), func(t *testing.T) {
			in := loadAgent(t, tt.agent)
			h := &fakeHost{tools: map[string]tool.Result{"add": {Content: []byte("3")}}}
			require.NoError(t, in.handle(tt.in, h))
			require.Len(t, h.sent, 1)
			assert.Equal(t, tt.perf, h.sent[0].Performative)
			assert.Equal(t, tt.out, string(h.sent[0].Content))
		})
	}
}

func TestCounterCountsAcrossCalls(t *testing.T) {
	in := loadAgent(t, "counter")
	h := &fakeHost{}
	for range 3 {
		require.NoError(t, in.handle(text(acl.Request, ""), h))
	}
	require.Len(t, h.sent, 3)
	assert.Equal(t, "3", string(h.sent[2].Content))
}

func TestProbeFailures(t *testing.T) {
	in := loadAgent(t, "probe")
	h := &fakeHost{}
	err := in.handle(text(acl.Request, "fail"), h)
	require.Error(t, err)
	assert.NotErrorIs(t, err, errPermanentForTest())
	assert.Contains(t, err.Error(), "RuntimeError: asked to fail")
	err = in.handle(text(acl.Request, "fatal"), h)
	require.ErrorIs(t, err, errPermanentForTest())
	assert.Contains(t, err.Error(), "PermanentError: asked to fail for good")
	assert.Empty(t, h.sent)
}

func TestBidderProposesRefusesAndExecutes(t *testing.T) {
	in := loadAgent(t, "bidder")
	h := &fakeHost{}
	cfp := &acl.Message{Performative: acl.CFP, Sender: "buyer", Receivers: []acl.AgentID{"py"}, ConversationID: "c",
		Content: []byte(`{"name":"job","kind":"text","size":4}`)}
	require.NoError(t, in.handle(cfp, h))
	require.Len(t, h.sent, 1)
	assert.Equal(t, acl.Propose, h.sent[0].Performative)
	assert.JSONEq(t, `{"cost":4}`, string(h.sent[0].Content))
	accept := &acl.Message{Performative: acl.AcceptProposal, Sender: "buyer", Receivers: []acl.AgentID{"py"}, ConversationID: "c"}
	require.NoError(t, in.handle(accept, h))
	require.Len(t, h.sent, 2)
	assert.Equal(t, acl.Inform, h.sent[1].Performative)
	assert.Equal(t, "job: 4 units done by a Python agent for 4.00", string(h.sent[1].Content))

	video := *cfp
	video.ConversationID, video.Content = "v", []byte(`{"name":"film","kind":"video","size":1}`)
	require.NoError(t, in.handle(&video, h))
	assert.Equal(t, acl.Refuse, h.sent[2].Performative)
	assert.Equal(t, "no GPU in this sandbox", string(h.sent[2].Content))

	bad := *cfp
	bad.ConversationID, bad.Content = "b", []byte(`nope`)
	require.NoError(t, in.handle(&bad, h))
	assert.Equal(t, acl.NotUnderstood, h.sent[3].Performative)
}
