package acl_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
)

func TestCreateReply(t *testing.T) {
	orig := fullMessage()
	orig.ReplyTo = ""
	before := orig.Clone()

	r := orig.CreateReply(acl.Agree)
	require.NotNil(t, r)
	assert.Equal(t, before, orig, "CreateReply must not modify the original")

	assert.Equal(t, acl.Agree, r.Performative)
	assert.Equal(t, []acl.AgentID{"front-desk"}, r.Receivers, "without reply_to the reply goes to the sender")
	assert.Equal(t, "c-1", r.ConversationID)
	assert.Equal(t, "fipa-request", r.Protocol)
	assert.Equal(t, "json", r.Language)
	assert.Equal(t, "utf-8", r.Encoding)
	assert.Equal(t, "billing", r.Ontology)
	assert.Equal(t, "r-1", r.InReplyTo, "in_reply_to is the original's reply_with")
	assert.True(t, acl.ValidMessageID(r.ReplyWith), "fresh reply_with %q", r.ReplyWith)
	assert.Regexp(t, uuidV7, r.ReplyWith)
	assert.NotEqual(t, orig.ReplyWith, r.ReplyWith)

	// Nothing else is copied.
	assert.Empty(t, r.ID)
	assert.Empty(t, r.Sender, "the runtime stamps the sender")
	assert.Empty(t, r.ReplyTo)
	assert.Nil(t, r.Content)
	assert.Nil(t, r.Params)
	assert.Nil(t, r.TraceContext)
	assert.True(t, r.ReplyBy.IsZero())
	assert.True(t, r.CreatedAt.IsZero())
	assert.Equal(t, acl.PriorityNormal, r.Priority)

	require.NoError(t, fixedValidator.Validate(r))

	// A second reply gets its own reply_with.
	r2 := orig.CreateReply(acl.Agree)
	assert.NotEqual(t, r.ReplyWith, r2.ReplyWith)
	assert.Equal(t, r.InReplyTo, r2.InReplyTo)

	// The reply's receivers are its own.
	r.Receivers[0] = "someone-else"
	assert.Equal(t, acl.AgentID("front-desk"), orig.Sender)
	assert.Equal(t, []acl.AgentID{"front-desk"}, r2.Receivers)
}

func TestCreateReplyAddressing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sender  acl.AgentID
		replyTo acl.AgentID
		want    []acl.AgentID
	}{
		{"sender only", "alice", "", []acl.AgentID{"alice"}},
		{"reply_to wins", "alice", "bob", []acl.AgentID{"bob"}},
		{"reply_to without sender", "", "bob", []acl.AgentID{"bob"}},
		{"reply_to topic", "alice", acl.Topic("answers"), []acl.AgentID{"topic:answers"}},
		{"neither", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := acl.New(acl.Request, "me")
			m.Sender, m.ReplyTo = tc.sender, tc.replyTo
			r := m.CreateReply(acl.Inform)
			assert.Equal(t, tc.want, r.Receivers)
			if tc.want == nil {
				requireFieldError(t, r.Validate(), "receiver")
			}
		})
	}
}

func TestCreateReplyEmptyReplyWith(t *testing.T) {
	m := acl.New(acl.Request, "me")
	m.Sender = "alice"
	r := m.CreateReply(acl.Refuse)
	assert.Equal(t, "", r.InReplyTo)
	assert.True(t, acl.ValidMessageID(r.ReplyWith))
}

func TestCreateReplyWith(t *testing.T) {
	orig := fullMessage()
	r := orig.CreateReplyWith(acl.Failure, "my-reply-id")
	assert.Equal(t, acl.Failure, r.Performative)
	assert.Equal(t, "my-reply-id", r.ReplyWith)
	assert.Equal(t, "r-1", r.InReplyTo)
	assert.Equal(t, []acl.AgentID{"front-desk.replies"}, r.Receivers)
	assert.Equal(t, orig.ConversationID, r.ConversationID)
	assert.Nil(t, r.Content)

	g := acl.NewIDGenerator()
	id := g.New(fixedNow).String()
	assert.Equal(t, id, orig.CreateReplyWith(acl.Inform, id).ReplyWith)
	assert.Equal(t, "", orig.CreateReplyWith(acl.Inform, "").ReplyWith)
}

func TestReplyChain(t *testing.T) {
	// request -> agree -> inform: each answer is matched by in_reply_to.
	req := acl.New(acl.Request, "server")
	req.Sender, req.ReplyWith, req.ConversationID = "client", "q-1", "conv"

	agree := req.CreateReplyWith(acl.Agree, "a-1")
	agree.Sender = "server"
	inform := agree.CreateReplyWith(acl.Inform, "i-1")

	assert.True(t, acl.MatchInReplyTo("q-1").Match(agree))
	assert.True(t, acl.MatchInReplyTo("a-1").Match(inform))
	assert.False(t, acl.MatchInReplyTo("q-1").Match(inform))
	assert.Equal(t, []acl.AgentID{"client"}, agree.Receivers)
	assert.Equal(t, []acl.AgentID{"server"}, inform.Receivers)
	assert.Equal(t, "conv", inform.ConversationID)
}
