package contractnet_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conn is a fake protocol.Conn: it keeps what is sent and reads a settable
// time.
type conn struct {
	mu   sync.Mutex
	now  time.Time
	sent []*acl.Message
	err  error // returned by Send when set
}

var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func newConn() *conn { return &conn{now: t0} }

func (c *conn) Send(_ context.Context, m *acl.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	c.sent = append(c.sent, m)
	return nil
}

func (c *conn) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *conn) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// take returns what was sent since the previous take.
func (c *conn) take() []*acl.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.sent
	c.sent = nil
	return out
}

func (c *conn) one(t *testing.T) *acl.Message {
	t.Helper()
	got := c.take()
	require.Len(t, got, 1)
	return got[0]
}

// call is a cfp from initiator in conversation conv, due an hour after t0.
func call(conv string, from acl.AgentID, content string) *acl.Message {
	return &acl.Message{Performative: acl.CFP, Sender: from, Receivers: []acl.AgentID{"me"},
		ConversationID: conv, ReplyWith: conv + ".cfp", Protocol: protocol.FIPAContractNet,
		Content: []byte(content), ReplyBy: t0.Add(time.Hour)}
}

// answer is the initiator's next message p in reply to the participant's
// proposal prop.
func answer(prop *acl.Message, from acl.AgentID, p acl.Performative) *acl.Message {
	m := prop.CreateReplyWith(p, prop.ConversationID+".next")
	m.Sender, m.Content = from, []byte("because")
	return m
}

// costly is a Participant whose cost is the call's content, that records
// what its callbacks got.
type costly struct {
	contractnet.Participant
	mu       sync.Mutex
	executed []string
	rejected []float64
}

func newCostly() *costly {
	c := &costly{}
	c.Bid = func(_ context.Context, cfp *acl.Message) (contractnet.Offer, error) {
		var cost float64
		if _, err := fmt.Sscan(string(cfp.Content), &cost); err != nil {
			return contractnet.Offer{}, protocol.NotUnderstood("not a number")
		}
		return contractnet.Offer{Cost: cost}, nil
	}
	c.Execute = func(_ context.Context, cfp, acc *acl.Message, o contractnet.Offer) ([]byte, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.executed = append(c.executed, fmt.Sprintf("%s/%s/%v", cfp.Content, acc.Content, o.Cost))
		return []byte("ok"), nil
	}
	c.Rejected = func(_ context.Context, _ *acl.Message, o contractnet.Offer) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.rejected = append(c.rejected, o.Cost)
	}
	return c
}

func (c *costly) bid(t *testing.T, cn *conn, cfp *acl.Message) *acl.Message {
	t.Helper()
	require.NoError(t, c.Respond(context.Background(), cfp, cn))
	m := cn.one(t)
	require.Equal(t, acl.Propose, m.Performative, string(m.Content))
	m.Sender = "me"
	return m
}

func TestParticipantBids(t *testing.T) {
	boom := errors.New("database down")
	tests := []struct {
		name    string
		bid     func(context.Context, *acl.Message) (contractnet.Offer, error)
		perf    acl.Performative // 0: nothing sent
		content string
		err     error
	}{
		{name: "propose", perf: acl.Propose, content: `{"cost":12.5,"score":0.9,"detail":{"eta":"2h"}}`,
			bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{Cost: 12.5, Score: 0.9, Detail: []byte(`{"eta":"2h"}`)}, nil
			}},
		{name: "refuse", perf: acl.Refuse, content: "too far",
			bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{Cost: 1}, protocol.Refuse("too far")
			}},
		{name: "wrapped refuse", perf: acl.Refuse, content: "too far",
			bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{}, fmt.Errorf("route: %w", protocol.Refuse("too far"))
			}},
		{name: "not understood", perf: acl.NotUnderstood, content: "unknown city",
			bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{}, protocol.NotUnderstood("unknown city")
			}},
		{name: "handler error", err: boom,
			bid: func(context.Context, *acl.Message) (contractnet.Offer, error) { return contractnet.Offer{}, boom }},
		{name: "offer that cannot be encoded", perf: acl.Refuse, content: "not a finite number",
			bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{Cost: math.Inf(1)}, nil
			}},
		{name: "no Bid", perf: acl.NotUnderstood, content: "does not bid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &contractnet.Participant{Bid: tt.bid}
			cn := newConn()
			cfp := call("c1", "init", "x")
			err := p.Respond(context.Background(), cfp, cn)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assert.Empty(t, cn.take())
				assert.Zero(t, p.Open())
				return
			}
			require.NoError(t, err)
			m := cn.one(t)
			assert.Equal(t, tt.perf, m.Performative)
			assert.Equal(t, ids("init"), m.Receivers)
			assert.Equal(t, "c1", m.ConversationID)
			assert.Equal(t, "c1.cfp", m.InReplyTo)
			assert.Equal(t, protocol.FIPAContractNet, m.Protocol)
			if tt.perf == acl.Propose {
				assert.JSONEq(t, tt.content, string(m.Content))
				assert.Equal(t, "json", m.Language)
				assert.Equal(t, 1, p.Open())
			} else {
				assert.Contains(t, string(m.Content), tt.content)
				assert.Zero(t, p.Open())
			}
		})
	}
}

func TestParticipantProposeSendFails(t *testing.T) {
	c := newCostly()
	cn := newConn()
	cn.err = errors.New("mailbox full")
	err := c.Respond(context.Background(), call("c1", "init", "3"), cn)
	require.ErrorContains(t, err, "mailbox full")
	assert.Zero(t, c.Open(), "a proposal never sent is not remembered")
}

func TestParticipantAcceptExecutesAndReports(t *testing.T) {
	tests := []struct {
		name    string
		execute func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error)
		perf    acl.Performative
		content string
	}{
		{"inform-result", func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
			return []byte("delivered"), nil
		}, acl.Inform, "delivered"},
		{"inform-done", func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
			return nil, nil
		}, acl.Inform, ""},
		{"failure", func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
			return []byte("half"), errors.New("road closed")
		}, acl.Failure, "road closed"},
		{"no Execute", nil, acl.Failure, "this participant cannot execute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCostly()
			if tt.execute != nil {
				inner := tt.execute
				c.Execute = func(ctx context.Context, cfp, acc *acl.Message, o contractnet.Offer) ([]byte, error) {
					assert.Equal(t, "4", string(cfp.Content))
					assert.Equal(t, acl.AcceptProposal, acc.Performative)
					assert.Equal(t, 4.0, o.Cost)
					return inner(ctx, cfp, acc, o)
				}
			} else {
				c.Execute = nil
			}
			cn := newConn()
			prop := c.bid(t, cn, call("c1", "init", "4"))
			acc := answer(prop, "init", acl.AcceptProposal)
			require.NoError(t, c.Respond(context.Background(), acc, cn))
			m := cn.one(t)
			assert.Equal(t, tt.perf, m.Performative)
			assert.Equal(t, tt.content, string(m.Content))
			assert.Equal(t, acc.ReplyWith, m.InReplyTo)
			assert.Equal(t, ids("init"), m.Receivers)
			assert.Zero(t, c.Open())

			require.NoError(t, c.Respond(context.Background(), acc, cn), "a second accept")
			assert.Equal(t, acl.NotUnderstood, cn.one(t).Performative)
		})
	}
}

func TestParticipantRejected(t *testing.T) {
	c := newCostly()
	cn := newConn()
	prop := c.bid(t, cn, call("c1", "init", "4"))
	require.NoError(t, c.Respond(context.Background(), answer(prop, "init", acl.RejectProposal), cn))
	assert.Empty(t, cn.take(), "a rejection is not answered")
	assert.Equal(t, []float64{4}, c.rejected)
	assert.Zero(t, c.Open())

	c.Rejected = nil // optional
	prop = c.bid(t, cn, call("c2", "init", "5"))
	require.NoError(t, c.Respond(context.Background(), answer(prop, "init", acl.RejectProposal), cn))
	assert.Empty(t, cn.take())
	assert.Zero(t, c.Open())
}

func TestParticipantCancelled(t *testing.T) {
	tests := []struct {
		name      string
		cancelled func(context.Context, *acl.Message, contractnet.Offer) error
		perf      acl.Performative
		content   string
	}{
		{"no callback", nil, acl.Inform, ""},
		{"callback agrees", func(context.Context, *acl.Message, contractnet.Offer) error { return nil }, acl.Inform, ""},
		{"callback fails", func(context.Context, *acl.Message, contractnet.Offer) error {
			return errors.New("already shipped")
		}, acl.Failure, "already shipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCostly()
			var got []float64
			if tt.cancelled != nil {
				c.Cancelled = func(ctx context.Context, m *acl.Message, o contractnet.Offer) error {
					got = append(got, o.Cost)
					assert.Equal(t, acl.Cancel, m.Performative)
					return tt.cancelled(ctx, m, o)
				}
			}
			cn := newConn()
			prop := c.bid(t, cn, call("c1", "init", "4"))
			cancel := &acl.Message{Performative: acl.Cancel, Sender: "init", Receivers: ids("me"), ConversationID: "c1", ReplyWith: "c1.x"}
			require.NoError(t, c.Respond(context.Background(), cancel, cn))
			m := cn.one(t)
			assert.Equal(t, tt.perf, m.Performative)
			assert.Equal(t, tt.content, string(m.Content))
			assert.Equal(t, "c1.x", m.InReplyTo)
			if tt.cancelled != nil {
				assert.Equal(t, []float64{4}, got)
			}
			assert.Zero(t, c.Open())
			require.NoError(t, c.Respond(context.Background(), answer(prop, "init", acl.AcceptProposal), cn))
			assert.Equal(t, acl.NotUnderstood, cn.one(t).Performative, "a cancelled proposal cannot be accepted")
			assert.Empty(t, c.executed)
		})
	}
}

// Answers that find no open proposal: nothing was proposed, the proposal
// was in another conversation, or to another initiator.
func TestParticipantWithoutProposal(t *testing.T) {
	c := newCostly()
	cn := newConn()
	prop := c.bid(t, cn, call("c1", "init", "4"))
	other := prop.Clone()
	other.ConversationID = "c2"
	tests := []struct {
		name string
		m    *acl.Message
		perf acl.Performative
	}{
		{"accept in another conversation", answer(other, "init", acl.AcceptProposal), acl.NotUnderstood},
		{"accept from another initiator", answer(prop, "intruder", acl.AcceptProposal), acl.NotUnderstood},
		{"reject in another conversation is ignored", answer(other, "init", acl.RejectProposal), 0},
		{"cancel in another conversation", answer(other, "init", acl.Cancel), acl.Failure},
		{"an act outside contract net", answer(prop, "init", acl.QueryIf), acl.NotUnderstood},
		{"a not-understood is never answered", answer(prop, "init", acl.NotUnderstood), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, c.Respond(context.Background(), tt.m, cn))
			got := cn.take()
			if tt.perf == 0 {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			assert.Equal(t, tt.perf, got[0].Performative)
			assert.Equal(t, tt.m.Sender, got[0].Receivers[0])
		})
	}
	assert.Equal(t, 1, c.Open(), "the real proposal is untouched")
	assert.Empty(t, c.executed)
}

func TestParticipantIteratedRebidReplacesTheOldBid(t *testing.T) {
	c := newCostly()
	cn := newConn()
	c.bid(t, cn, call("c1", "init", "10"))
	second := call("c1", "init", "8")
	second.ReplyWith = "c1.round2"
	prop := c.bid(t, cn, second)
	assert.Equal(t, 1, c.Open())
	require.NoError(t, c.Respond(context.Background(), answer(prop, "init", acl.AcceptProposal), cn))
	assert.Equal(t, acl.Inform, cn.one(t).Performative)
	assert.Equal(t, []string{"8/because/8"}, c.executed, "the round-two call and offer")
	assert.Zero(t, c.Open())

	// A refusal in a later round withdraws the earlier proposal.
	c.bid(t, cn, call("c2", "init", "10"))
	require.NoError(t, c.Respond(context.Background(), call("c2", "init", "not a number"), cn))
	assert.Equal(t, acl.NotUnderstood, cn.one(t).Performative)
	assert.Zero(t, c.Open())
}

func TestParticipantIsSafeForConcurrentUse(t *testing.T) {
	c := newCostly()
	c.MaxOpen = 64
	cn := newConn()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				conv := fmt.Sprintf("g%d-%d", g, i)
				ctx := context.Background()
				_ = c.Respond(ctx, call(conv, "init", "1"), cn)
				prop := &acl.Message{Sender: "me", ConversationID: conv, ReplyWith: conv + ".p"}
				_ = c.Respond(ctx, answer(prop, "init", acl.AcceptProposal), cn)
				_ = c.Open()
			}
		})
	}
	wg.Wait()
	assert.Zero(t, c.Open())
	var informs int
	for _, m := range cn.take() {
		if m.Performative == acl.Inform {
			informs++
		}
	}
	assert.Equal(t, 8*200, informs)
}

// selfConn is a conn that says which agent answers, as a MessageContext
// does.
type selfConn struct {
	*conn
	self acl.AgentID
}

func (c selfConn) Self() acl.AgentID { return c.self }

func TestParticipantSharedByAgents(t *testing.T) {
	c := newCostly()
	shared := newConn()
	a, b := selfConn{shared, "a"}, selfConn{shared, "b"}
	bidAs := func(cn protocol.Conn, self acl.AgentID, cost string) *acl.Message {
		require.NoError(t, c.Respond(context.Background(), call("c1", "init", cost), cn))
		m := shared.one(t)
		m.Sender = self
		return m
	}
	bidAs(shared, "me", "9") // a conn without Self: a key of its own
	propA := bidAs(a, "a", "1")
	propB := bidAs(b, "b", "2")
	assert.Equal(t, 3, c.Open(), "a, b, and the bid through a conn without Self")

	require.NoError(t, c.Respond(context.Background(), answer(propB, "init", acl.RejectProposal), b))
	assert.Empty(t, shared.take())
	require.NoError(t, c.Respond(context.Background(), answer(propA, "init", acl.AcceptProposal), a))
	assert.Equal(t, acl.Inform, shared.one(t).Performative)
	assert.Equal(t, []float64{2}, c.rejected)
	assert.Equal(t, []string{"1/because/1"}, c.executed)
	assert.Equal(t, 1, c.Open())
}

// flakyConn fails its first n sends.
type flakyConn struct {
	fail int
	sent []*acl.Message
}

func (f *flakyConn) Send(_ context.Context, m *acl.Message) error {
	if f.fail > 0 {
		f.fail--
		return errors.New("mailbox full")
	}
	f.sent = append(f.sent, m)
	return nil
}
func (f *flakyConn) Now() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// An accept whose report could not be sent is redelivered by the runtime;
// the bid is still there, so the work runs again and is reported — never
// answered "not understood".
func TestParticipantRedeliveredAcceptRunsAgain(t *testing.T) {
	runs := 0
	p := &contractnet.Participant{
		Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) { return contractnet.Offer{Cost: 1}, nil },
		Execute: func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
			runs++
			return []byte("done"), nil
		},
	}
	conn := &flakyConn{}
	cfp := &acl.Message{Performative: acl.CFP, Sender: "init", ConversationID: "c", ReplyWith: "c.1",
		ReplyBy: conn.Now().Add(time.Minute)}
	require.NoError(t, p.Respond(context.Background(), cfp, conn))
	accept := &acl.Message{Performative: acl.AcceptProposal, Sender: "init", ConversationID: "c", ReplyWith: "c.2"}
	conn.fail = 1
	require.Error(t, p.Respond(context.Background(), accept, conn), "the report could not be sent: the handler fails")
	assert.Equal(t, 1, p.Open(), "the bid survives the failed report")
	require.NoError(t, p.Respond(context.Background(), accept, conn))
	assert.Equal(t, 2, runs)
	require.Len(t, conn.sent, 2)
	assert.Equal(t, acl.Inform, conn.sent[1].Performative)
	assert.Equal(t, "done", string(conn.sent[1].Content))
	assert.Equal(t, 0, p.Open())

	// A context that has ended makes an Execute error a retry, not a failure.
	require.NoError(t, p.Respond(context.Background(), cfp, conn))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.Execute = func(ctx context.Context, _, _ *acl.Message, _ contractnet.Offer) ([]byte, error) {
		return nil, ctx.Err()
	}
	require.ErrorIs(t, p.Respond(ctx, accept, conn), context.Canceled)
	assert.Equal(t, 1, p.Open())
}
