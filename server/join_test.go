package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/server"
)

// wsClient is a real WebSocket client of the gateway, over 127.0.0.1.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

// join dials the gateway as agent name with token; it returns the
// HTTP status of a refused join.
func (f *fixture) join(name, token string) (*wsClient, int) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.t.Context(), 20*time.Second)
	defer cancel()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"/v1/agents/"+name+"/join", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		require.NotNil(f.t, resp, "dial: %v", err)
		return nil, resp.StatusCode
	}
	c := &wsClient{t: f.t, conn: conn}
	f.t.Cleanup(func() { _ = conn.CloseNow() })
	j := c.next()
	require.Equal(f.t, server.FrameJoined, j.Type, "%+v", j)
	require.Equal(f.t, name, j.Agent)
	return c, http.StatusSwitchingProtocols
}

// next reads the next frame (20s safety net).
func (c *wsClient) next() server.WSFrame {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 20*time.Second)
	defer cancel()
	typ, b, err := c.conn.Read(ctx)
	require.NoError(c.t, err)
	require.Equal(c.t, websocket.MessageText, typ)
	var f server.WSFrame
	require.NoError(c.t, json.Unmarshal(b, &f), "%s", b)
	return f
}

func (c *wsClient) send(f server.WSFrame) {
	c.t.Helper()
	b, err := json.Marshal(f)
	require.NoError(c.t, err)
	require.NoError(c.t, c.conn.Write(c.t.Context(), websocket.MessageText, b))
}

// receive reads a message frame and returns it with its message.
func (c *wsClient) receive() (server.WSFrame, *acl.Message) {
	c.t.Helper()
	f := c.next()
	require.Equal(c.t, server.FrameMessage, f.Type, "%+v", f)
	m, err := acl.Unmarshal(f.Message)
	require.NoError(c.t, err)
	return f, m
}

func TestJoinedClientReceivesAndSendsAsItself(t *testing.T) {
	f := newFixture(t, nil)
	got := spawnRecorder(t, f.rt, "weather")
	c, status := f.join("desk", operatorToken)
	require.Equal(t, http.StatusSwitchingProtocols, status)

	// A message to the joined agent reaches the client; its ack finishes it.
	f.ok(http.StatusAccepted, nil, "POST", "/v1/messages", operatorToken, `{"type":"inform","to":"desk","content":{"n":1}}`)
	fr, m := c.receive()
	assert.Equal(t, `{"n":1}`, string(m.Content))
	c.send(server.WSFrame{Type: server.FrameAck, Delivery: fr.Delivery})

	// The client sends as itself: the agent sees "desk" as the sender, and
	// the reply comes back over the socket.
	c.send(server.WSFrame{Type: server.FrameSend, Ref: "r1", Message: json.RawMessage(`{"type":"request","to":"weather","content":"oslo?","reply_with":"q1"}`)})
	sent := c.next()
	require.Equal(t, server.FrameSent, sent.Type, "%+v", sent)
	assert.Equal(t, "r1", sent.Ref)
	seen := <-got
	assert.Equal(t, acl.AgentID("desk"), seen.Sender)
	assert.Equal(t, sent.ID, seen.ID.String())
	fr, reply := c.receive()
	assert.Equal(t, acl.Inform, reply.Performative)
	assert.Equal(t, "q1", reply.InReplyTo)
	assert.Equal(t, acl.AgentID("weather"), reply.Sender)
	c.send(server.WSFrame{Type: server.FrameAck, Delivery: fr.Delivery})

	// It cannot speak as anyone else, nor send nonsense.
	for _, tc := range []struct {
		msg, field string
	}{
		{`{"type":"inform","from":"weather","to":"weather"}`, "from"},
		{`{"performative":"inform","sender":"host","receiver":"weather"}`, "sender"},
		{`{"type":"shout","to":"weather"}`, "type"},
		{`{"type":"inform","to":"nobody"}`, ""},
	} {
		c.send(server.WSFrame{Type: server.FrameSend, Ref: "bad", Message: json.RawMessage(tc.msg)})
		e := c.next()
		require.Equal(t, server.FrameError, e.Type, "%s: %+v", tc.msg, e)
		require.NotNil(t, e.Problem)
		assert.Equal(t, "bad", e.Ref)
		assert.Equal(t, tc.field, e.Problem.Field, "%s: %+v", tc.msg, e.Problem)
	}
	c.send(server.WSFrame{Type: "dance"})
	e := c.next()
	require.Equal(t, server.FrameError, e.Type)
	assert.Equal(t, "type", e.Problem.Field)
	// A name from the message cannot be passed off either: "from" equal to
	// the joined name is fine.
	c.send(server.WSFrame{Type: server.FrameSend, Ref: "ok", Message: json.RawMessage(`{"type":"inform","from":"desk","to":"weather"}`)})
	require.Equal(t, server.FrameSent, c.next().Type)
	assert.Equal(t, acl.AgentID("desk"), (<-got).Sender)
}

func TestJoinRefusals(t *testing.T) {
	f := newFixture(t, nil)
	f.deploy("echo", echoWasm, nil)
	_, status := f.join("desk", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	_, status = f.join("desk", viewerToken)
	assert.Equal(t, http.StatusForbidden, status, "viewers do not talk to agents")
	_, status = f.join("desk", scopedToken)
	assert.Equal(t, http.StatusForbidden, status, "a token scoped to echo joins as nothing else")
	_, status = f.join("echo", operatorToken)
	assert.Equal(t, http.StatusConflict, status, "a deployed agent's name is not free")
	_, status = f.join("topic:news", operatorToken)
	assert.Equal(t, http.StatusBadRequest, status)

	_, status = f.join("desk", operatorToken)
	require.Equal(t, http.StatusSwitchingProtocols, status)
	_, status = f.join("desk", adminToken)
	assert.Equal(t, http.StatusConflict, status, "one client per name at a time")

	// The refusals were audited.
	denied := 0
	for _, r := range f.srv.Audit() {
		if r.Action == "joinAgent" && r.Outcome != server.OutcomeOK {
			denied++
		}
	}
	assert.GreaterOrEqual(t, denied, 5)
}

// TestJoinedClientLosesNothingWhenAway: messages sent while the client is
// away wait in its agent's mailbox; one it received and did not
// acknowledge before leaving comes again; a permanent nack dead-letters.
func TestJoinedClientLosesNothingWhenAway(t *testing.T) {
	dead := make(chan caxton.DeadLetter, 4)
	f := newFixture(t, []caxton.Option{caxton.WithDeadLetterHook(func(dl caxton.DeadLetter) { dead <- dl })})
	c, _ := f.join("desk", operatorToken)
	f.ok(http.StatusAccepted, nil, "POST", "/v1/messages", operatorToken, `{"type":"inform","to":"desk","content":"one"}`)
	_, first := c.receive() // not acknowledged
	events := f.rt.Watch(t.Context(), 64)
	require.NoError(t, c.conn.Close(websocket.StatusNormalClosure, "bye"))

	// Away: the agent is stopped and keeps its mailbox.
	for ev := range events {
		if ev.Agent == "desk" && ev.Kind == caxton.EventStopped {
			break
		}
	}
	for _, s := range []string{"two", "three"} {
		f.ok(http.StatusAccepted, nil, "POST", "/v1/messages", operatorToken, `{"type":"inform","to":"desk","content":"`+s+`"}`)
	}
	var st server.AgentStatus
	f.ok(http.StatusOK, &st, "GET", "/v1/agents/desk", viewerToken, nil)
	assert.Equal(t, 3, st.QueueDepth+st.InFlight)

	c, _ = f.join("desk", operatorToken)
	var contents []string
	for range 3 {
		fr, m := c.receive()
		if string(m.Content) == "one" {
			assert.Equal(t, first.ID, m.ID, "redelivered, same id")
		}
		contents = append(contents, string(m.Content))
		c.send(server.WSFrame{Type: server.FrameAck, Delivery: fr.Delivery})
	}
	assert.Equal(t, []string{"one", "two", "three"}, contents, "in order")

	// A permanent nack dead-letters the message at once.
	f.ok(http.StatusAccepted, nil, "POST", "/v1/messages", operatorToken, `{"type":"inform","to":"desk","content":"poison"}`)
	fr, _ := c.receive()
	c.send(server.WSFrame{Type: server.FrameNack, Delivery: fr.Delivery, Reason: "cannot parse", Permanent: true})
	select {
	case dl := <-dead:
		assert.Equal(t, acl.AgentID("desk"), dl.Receiver)
		assert.Contains(t, dl.LastError, "cannot parse")
	case <-time.After(20 * time.Second): // a safety net
		t.Fatal("the nacked message was not dead-lettered")
	}

	// Removing the agent ends the session.
	f.ok(http.StatusNoContent, nil, "DELETE", "/v1/agents/desk", adminToken, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, _, err := c.conn.Read(ctx)
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "%v", err)
}

func TestDrainEndsJoinedClients(t *testing.T) {
	f := newFixture(t, nil)
	c, _ := f.join("desk", operatorToken)
	f.srv.Drain()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, _, err := c.conn.Read(ctx)
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "%v", err)
	_, status := f.join("desk", operatorToken)
	assert.Equal(t, http.StatusServiceUnavailable, status)
}

// TestJoinedClientPushesBack: a client that does not take its messages
// fills its agent's bounded mailbox, and then senders are refused at once
// (503), not held and not dropped; what was accepted is delivered when
// the client acknowledges.
func TestJoinedClientPushesBack(t *testing.T) {
	f := newFixture(t, nil, server.WithJoinMailbox(2))
	c, _ := f.join("slow", operatorToken)
	send := func(s string) int {
		status, _ := f.do("POST", "/v1/messages", operatorToken, `{"type":"inform","to":"slow","content":"`+s+`"}`)
		return status
	}
	// One message is with the client (unacknowledged), two wait.
	require.Equal(t, http.StatusAccepted, send("m1"))
	first, m := c.receive()
	assert.Equal(t, "m1", string(m.Content))
	require.Equal(t, http.StatusAccepted, send("m2"))
	require.Equal(t, http.StatusAccepted, send("m3"))
	p := f.problem(http.StatusServiceUnavailable, "POST", "/v1/messages", operatorToken, `{"type":"inform","to":"slow","content":"m4"}`)
	assert.Equal(t, "slow", p.Agent)

	c.send(server.WSFrame{Type: server.FrameAck, Delivery: first.Delivery})
	for _, want := range []string{"m2", "m3"} {
		fr, m := c.receive()
		assert.Equal(t, want, string(m.Content))
		c.send(server.WSFrame{Type: server.FrameAck, Delivery: fr.Delivery})
	}
	require.Equal(t, http.StatusAccepted, send("m5"), "room again")
	_, m = c.receive()
	assert.Equal(t, "m5", string(m.Content))
}
