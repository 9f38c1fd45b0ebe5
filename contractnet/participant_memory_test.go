package contractnet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParticipantMemory(t *testing.T) {
	t.Run("default is an hour past the reply-by", func(t *testing.T) {
		c := newCostly()
		cn := newConn()
		prop := c.bid(t, cn, call("c1", "init", "4")) // due at t0+1h
		cn.advance(2 * time.Hour)                     // exactly Memory past the reply-by: still open
		require.NoError(t, c.Respond(context.Background(), answer(prop, "init", acl.AcceptProposal), cn))
		assert.Equal(t, acl.Inform, cn.one(t).Performative)
	})
	t.Run("expired", func(t *testing.T) {
		c := newCostly()
		c.Memory = time.Minute
		cn := newConn()
		prop := c.bid(t, cn, call("c1", "init", "4"))
		cn.advance(time.Hour + time.Minute + time.Nanosecond)
		require.NoError(t, c.Respond(context.Background(), answer(prop, "init", acl.AcceptProposal), cn))
		assert.Equal(t, acl.NotUnderstood, cn.one(t).Performative)
		assert.Empty(t, c.executed)
	})
	t.Run("a call already past its reply-by counts from now", func(t *testing.T) {
		c := newCostly()
		c.Memory = time.Minute
		cn := newConn()
		cn.advance(3 * time.Hour)
		prop := c.bid(t, cn, call("c1", "init", "4"))
		cn.advance(time.Minute)
		require.NoError(t, c.Respond(context.Background(), answer(prop, "init", acl.AcceptProposal), cn))
		assert.Equal(t, acl.Inform, cn.one(t).Performative)
	})
	t.Run("expired bids are swept", func(t *testing.T) {
		c := newCostly()
		c.Memory = time.Minute
		cn := newConn()
		for i := range 5 {
			c.bid(t, cn, call(fmt.Sprint("old", i), "init", "1"))
		}
		assert.Equal(t, 5, c.Open())
		cn.advance(2 * time.Hour)
		c.bid(t, cn, call("new", "init", "1"))
		assert.Equal(t, 1, c.Open())
	})
}

func TestParticipantMaxOpenForgetsTheOldest(t *testing.T) {
	c := newCostly()
	c.MaxOpen = 3
	cn := newConn()
	props := map[string]*acl.Message{}
	for i := range 5 {
		conv := fmt.Sprint("c", i)
		props[conv] = c.bid(t, cn, call(conv, "init", fmt.Sprint(i+1)))
		assert.LessOrEqual(t, c.Open(), 3)
	}
	assert.Equal(t, 3, c.Open())
	for conv, want := range map[string]acl.Performative{"c0": acl.NotUnderstood, "c1": acl.NotUnderstood, "c2": acl.Inform, "c3": acl.Inform, "c4": acl.Inform} {
		require.NoError(t, c.Respond(context.Background(), answer(props[conv], "init", acl.AcceptProposal), cn))
		assert.Equal(t, want, cn.one(t).Performative, conv)
	}
}

// Answered bids leave the order MaxOpen evicts by, so past the limit the
// oldest open bid goes, however many closed ones came before it.
func TestParticipantManyConversations(t *testing.T) {
	c := newCostly()
	c.MaxOpen = 10
	cn := newConn()
	for i := range 1000 {
		conv := fmt.Sprint("c", i)
		prop := c.bid(t, cn, call(conv, "init", "1"))
		perf := []acl.Performative{acl.AcceptProposal, acl.RejectProposal}[i%2]
		require.NoError(t, c.Respond(context.Background(), answer(prop, "init", perf), cn))
		cn.take()
	}
	assert.Zero(t, c.Open())
	oldest := c.bid(t, cn, call("oldest", "init", "2"))
	var next *acl.Message
	for i := range 10 {
		m := c.bid(t, cn, call(fmt.Sprint("more", i), "init", "1"))
		if i == 0 {
			next = m
		}
	}
	assert.Equal(t, 10, c.Open())
	require.NoError(t, c.Respond(context.Background(), answer(oldest, "init", acl.AcceptProposal), cn))
	assert.Equal(t, acl.NotUnderstood, cn.one(t).Performative, "the oldest was forgotten")
	require.NoError(t, c.Respond(context.Background(), answer(next, "init", acl.AcceptProposal), cn))
	assert.Equal(t, acl.Inform, cn.one(t).Performative)
}

// A new bid in a conversation whose earlier bid was answered is the newest
// bid, not the oldest.
func TestParticipantMaxOpenAfterRebidInSameConversation(t *testing.T) {
	c := newCostly()
	c.MaxOpen = 2
	cn := newConn()
	a1 := c.bid(t, cn, call("a", "init", "1"))
	b := c.bid(t, cn, call("b", "init", "2"))
	require.NoError(t, c.Respond(context.Background(), answer(a1, "init", acl.RejectProposal), cn))
	again := call("a", "init", "3")
	again.ReplyWith = "a.again"
	a2 := c.bid(t, cn, again)
	cc := c.bid(t, cn, call("c", "init", "4"))
	assert.Equal(t, 2, c.Open())
	for _, tt := range []struct {
		prop *acl.Message
		want acl.Performative
	}{{b, acl.NotUnderstood}, {a2, acl.Inform}, {cc, acl.Inform}} {
		require.NoError(t, c.Respond(context.Background(), answer(tt.prop, "init", acl.AcceptProposal), cn))
		assert.Equal(t, tt.want, cn.one(t).Performative, tt.prop.ConversationID)
	}
}
