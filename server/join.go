package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

// The WebSocket gateway (GET /v1/agents/{name}/join): an outside client
// joins the bus as the agent {name}. The server spawns a native agent of
// that name whose handler hands each message to the client and waits for
// the client's ack, so the runtime's one path does the rest: the agent's
// bounded (and, with a durable store, persistent) mailbox queues what the
// client has not taken yet, a full mailbox refuses senders (backpressure),
// a nack or a missed ack is retried and finally dead-lettered. When the
// client leaves, the agent is stopped, not removed: messages sent to it
// meanwhile wait in its mailbox for the next join. Messages the client
// sends go out with the agent's name as sender, stamped by the server; a
// message naming another sender is refused.
//
// Delivery is at least once: a message the client received but had not
// acknowledged when the connection broke is delivered again on the next
// join (the message id tells the client it has seen it), and counts a
// failed attempt, so one that keeps breaking the client is dead-lettered
// after the agent's MaxAttempts.

// errClientGone is the handler's error for a delivery cut short because
// the client left; the message is retried on the next join.
var errClientGone = errors.New("server: the joined client disconnected")

// gateway is the set of agents the WebSocket gateway spawned.
type gateway struct {
	mu     sync.Mutex
	agents map[acl.AgentID]*joinedAgent
}

// joinedAgent is an agent the gateway spawned, and its current client.
type joinedAgent struct {
	name    acl.AgentID
	version string     // a label no deployment guesses: proves the runtime's agent of this name is ours
	life    sync.Mutex // orders a leaving client's Stop and a joining one's Start
	mu      sync.Mutex
	sess    *session // nil while no client is joined
}

// session is one joined connection.
type session struct {
	conn    *websocket.Conn
	ready   chan struct{} // closed once the joined frame is written
	done    chan struct{} // closed when the connection ends
	endOnce sync.Once
	code    websocket.StatusCode // the close status to send, if any (read after done)
	reason  string
	seq     atomic.Uint64
	mu      sync.Mutex
	waiting map[uint64]chan WSFrame // deliveries waiting for their ack
}

// end ends the session; the connection is closed without a close frame.
func (s *session) end() { s.endWith(0, "") }

// endWith ends the session with a close frame of code and reason.
func (s *session) endWith(code websocket.StatusCode, reason string) {
	s.endOnce.Do(func() {
		s.code, s.reason = code, reason
		close(s.done)
	})
}

// write sends f, bounded by the ack timeout so a client that stopped
// reading cannot hold a worker forever.
func (s *session) write(ctx context.Context, f WSFrame, timeout time.Duration) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, b)
}

// handle is the joined agent's handler: hand the message to the client
// and wait for its ack.
func (ja *joinedAgent) handle(timeout time.Duration) caxton.HandlerFunc {
	return func(ctx context.Context, mc *caxton.MessageContext) error {
		ja.mu.Lock()
		s := ja.sess
		ja.mu.Unlock()
		if s == nil {
			return errClientGone
		}
		select {
		case <-s.ready:
		case <-s.done:
			return errClientGone
		case <-ctx.Done():
			return ctx.Err()
		}
		b, err := acl.Marshal(mc.Message())
		if err != nil {
			return caxton.Permanent(err)
		}
		n := s.seq.Add(1)
		ack := make(chan WSFrame, 1)
		s.mu.Lock()
		s.waiting[n] = ack
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.waiting, n)
			s.mu.Unlock()
		}()
		if err := s.write(ctx, WSFrame{Type: FrameMessage, Delivery: n, Message: b}, timeout); err != nil {
			s.end()
			return fmt.Errorf("%w: %v", errClientGone, err)
		}
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case f := <-ack:
			if f.Type == FrameAck {
				return nil
			}
			err := fmt.Errorf("server: the joined client refused the message: %s", f.Reason)
			if f.Permanent {
				return caxton.Permanent(err)
			}
			return err
		case <-s.done:
			return errClientGone
		case <-t.C:
			return fmt.Errorf("server: the joined client did not acknowledge delivery %d within %v", n, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// claim reserves name for a new session: refused if a client is joined as
// it, or if an agent of that name exists that the gateway did not spawn.
func (s *Server) claim(name acl.AgentID, sess *session) (*joinedAgent, bool, error) {
	g := &s.gw
	g.mu.Lock()
	defer g.mu.Unlock()
	ja := g.agents[name]
	info, err := s.rt.Agent(name)
	exists := err == nil
	if ja == nil || (exists && info.Version != ja.version) {
		if exists {
			return nil, false, fmt.Errorf("%w: %q is a deployed agent; a client joins under a name of its own", caxton.ErrAgentExists, name)
		}
		var tag [6]byte
		_, _ = rand.Read(tag[:])
		ja = &joinedAgent{name: name, version: "gateway-" + hex.EncodeToString(tag[:])}
		if g.agents == nil {
			g.agents = map[acl.AgentID]*joinedAgent{}
		}
		g.agents[name] = ja
	}
	ja.mu.Lock()
	defer ja.mu.Unlock()
	if ja.sess != nil {
		return nil, false, fmt.Errorf("%w: %q", ErrAlreadyJoined, name)
	}
	ja.sess = sess
	return ja, exists, nil
}

// release detaches sess from ja, if it is still ja's.
func (ja *joinedAgent) release(sess *session) {
	ja.mu.Lock()
	if ja.sess == sess {
		ja.sess = nil
	}
	ja.mu.Unlock()
	sess.end()
}

// closeJoined ends the session of a gateway agent being removed.
func (s *Server) closeJoined(name acl.AgentID) {
	s.gw.mu.Lock()
	ja := s.gw.agents[name]
	delete(s.gw.agents, name)
	s.gw.mu.Unlock()
	if ja == nil {
		return
	}
	ja.mu.Lock()
	sess := ja.sess
	ja.mu.Unlock()
	if sess != nil {
		sess.endWith(websocket.StatusGoingAway, "the agent was removed")
	}
}

// joinAgent upgrades the request to a WebSocket on which the client is the
// agent {name}. Refusals before the upgrade (bad name, taken, not allowed)
// are problem details like every other route's.
func (s *Server) joinAgent(c *call) error {
	if err := c.agent.Validate(); err != nil {
		return err
	}
	if c.agent.IsTopic() {
		return fieldErr("name", "%q is a topic address, not an agent name", c.agent)
	}
	if s.closing.Load() {
		return fmt.Errorf("%w: the server is draining", caxton.ErrClosed)
	}
	sess := &session{ready: make(chan struct{}), done: make(chan struct{}), waiting: map[uint64]chan WSFrame{}}
	ja, exists, err := s.claim(c.agent, sess)
	if err != nil {
		return err
	}
	conn, err := websocket.Accept(c.w, c.r, nil)
	if err != nil {
		ja.release(sess)
		return fieldErr("Upgrade", "%v", err) // Accept has answered the client
	}
	sess.conn = conn
	conn.SetReadLimit(s.cfg.maxBody)
	// The connection outlives the request's context only as long as the
	// client stays; Drain ends it.
	ctx, cancel := context.WithCancel(c.r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.drained:
			sess.endWith(websocket.StatusGoingAway, "the server is shutting down")
		case <-sess.done:
		case <-ctx.Done():
			sess.end()
		}
		// Whoever ended the session, the connection goes (which also
		// unblocks the read loop); Close waits for the client's close
		// frame, so it runs here and holds nobody up.
		if sess.code != 0 {
			_ = conn.Close(sess.code, sess.reason)
		} else {
			_ = conn.CloseNow()
		}
	}()
	defer s.leave(c, ja, sess)

	ja.life.Lock()
	if exists {
		err = s.rt.Start(ctx, c.agent)
	} else {
		err = s.rt.Spawn(ctx, caxton.AgentSpec{Name: c.agent, Version: ja.version, Handler: ja.handle(s.cfg.ackTimeout),
			MailboxCapacity: s.cfg.joinMailbox, Overflow: caxton.OverflowReject})
	}
	ja.life.Unlock()
	if err != nil {
		_ = sess.write(ctx, WSFrame{Type: FrameError, Problem: problemFor(err, c.agent)}, s.cfg.ackTimeout)
		sess.endWith(websocket.StatusInternalError, "the agent could not start")
		return err
	}
	if err := sess.write(ctx, WSFrame{Type: FrameJoined, Agent: string(c.agent)}, s.cfg.ackTimeout); err != nil {
		return nil // the client left at once
	}
	close(sess.ready)
	go s.keepAlive(ctx, sess)
	return s.readFrames(ctx, c, sess)
}

// leave ends a session: the client is gone, so its agent is stopped and
// what is sent to it waits in its mailbox for the next join.
func (s *Server) leave(c *call, ja *joinedAgent, sess *session) {
	ja.life.Lock()
	defer ja.life.Unlock()
	ja.release(sess)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.r.Context()), s.cfg.ackTimeout)
	defer cancel()
	ja.mu.Lock()
	rejoined := ja.sess != nil
	ja.mu.Unlock()
	// Stop the agent unless a new client joined meanwhile, or the agent of
	// this name is no longer this one (removed, and spawned again).
	if info, err := s.rt.Agent(c.agent); !rejoined && err == nil && info.Version == ja.version {
		if err := s.rt.Stop(ctx, c.agent); err != nil && !errors.Is(err, caxton.ErrAgentNotFound) {
			s.cfg.logger.Error("stopping a left client's agent", "agent", c.agent, "err", err)
		}
	}
}

// keepAlive pings the client so that a connection that died without a
// close (a lost network) ends instead of holding deliveries.
func (s *Server) keepAlive(ctx context.Context, sess *session) {
	t := time.NewTicker(s.cfg.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, s.cfg.ackTimeout)
			err := sess.conn.Ping(pctx)
			cancel()
			if err != nil {
				sess.end()
				return
			}
		case <-sess.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// readFrames serves the client's frames until the connection ends.
func (s *Server) readFrames(ctx context.Context, c *call, sess *session) error {
	for {
		typ, b, err := sess.conn.Read(ctx)
		if err != nil {
			st := websocket.CloseStatus(err)
			if st == websocket.StatusNormalClosure || st == websocket.StatusGoingAway || errors.Is(err, context.Canceled) {
				return nil
			}
			select {
			case <-sess.done: // ended by the server (drain, removal, a dead ping)
				return nil
			default:
			}
			return fmt.Errorf("server: joined client %q: %w", c.agent, err)
		}
		if typ != websocket.MessageText {
			_ = sess.conn.Close(websocket.StatusUnsupportedData, "frames are JSON text")
			return nil
		}
		var f WSFrame
		if err := decodeJSONBytes(b, &f); err != nil {
			if werr := sess.write(ctx, WSFrame{Type: FrameError, Problem: problemFor(err, c.agent)}, s.cfg.ackTimeout); werr != nil {
				return nil
			}
			continue
		}
		switch f.Type {
		case FrameAck, FrameNack:
			sess.mu.Lock()
			ack := sess.waiting[f.Delivery]
			delete(sess.waiting, f.Delivery)
			sess.mu.Unlock()
			if ack != nil {
				ack <- f
			}
		case FrameSend:
			answer := s.sendFrom(ctx, c, f)
			if err := sess.write(ctx, answer, s.cfg.ackTimeout); err != nil {
				return nil
			}
		default:
			p := problemFor(fieldErr("type", "want %s, %s or %s, got %q", FrameSend, FrameAck, FrameNack, f.Type), c.agent)
			if err := sess.write(ctx, WSFrame{Type: FrameError, Ref: f.Ref, Problem: p}, s.cfg.ackTimeout); err != nil {
				return nil
			}
		}
	}
}

// sendFrom sends a client's message as its agent and returns the answer
// frame. The caller's rate limit and scope apply as on HTTP.
func (s *Server) sendFrom(ctx context.Context, c *call, f WSFrame) WSFrame {
	fail := func(err error) WSFrame {
		return WSFrame{Type: FrameError, Ref: f.Ref, Problem: problemFor(err, c.agent)}
	}
	if err := s.limit(c, nil); err != nil {
		return fail(err)
	}
	if len(f.Message) == 0 {
		return fail(fieldErr("message", "a send frame carries a message"))
	}
	m, err := decodeMessage("application/json", f.Message, string(c.agent))
	if err != nil {
		return fail(err)
	}
	for _, to := range m.Receivers {
		if err := c.mayAccess(to); err != nil {
			return fail(err)
		}
	}
	m.Sender = c.agent // the joined client speaks as its agent, only
	if err := s.rt.Send(ctx, m); err != nil {
		return fail(err)
	}
	return WSFrame{Type: FrameSent, Ref: f.Ref, ID: m.ID.String()}
}
