package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/coder/websocket"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/server/api"
)

// Session is the client joined to the server's bus as a named agent over
// the WebSocket gateway (GET /v1/agents/{name}/join): it receives the
// agent's messages, acknowledges each (Ack, or Nack to have it retried
// or dead-lettered), and sends with the agent's name as sender. Receive
// must be called by one goroutine; Send, Ack and Nack may be called from
// any.
type Session struct {
	name string
	conn *websocket.Conn

	mu      sync.Mutex
	seq     uint64
	pending map[string]chan api.WSFrame // sends waiting for sent/error, by ref
	// inbox holds deliveries until Receive takes them. The reading loop
	// never waits for Receive: a caller inside Send must still get its
	// "sent" frame when a delivery came first. It stays small, as the
	// server hands out one unacknowledged message per agent instance.
	inbox   []Delivery
	arrived chan struct{} // a token when inbox is not empty
	done    chan struct{}
	quit    chan struct{} // closed by Close: the read error that follows is ErrSessionClosed
	once    sync.Once
	err     error // why the session ended (read after done)
}

// Delivery is a message the server handed to the session; acknowledge it
// with Ack once handled (until then the server redelivers it on the next
// join if the connection breaks).
type Delivery struct {
	Message *acl.Message
	ID      uint64 // the server's delivery number
}

// Join joins the bus as agent name. A refusal (no token, wrong role or
// scope, the name taken) is the server's *api.Problem.
func (c *Client) Join(ctx context.Context, name string) (*Session, error) {
	u := *c.base
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	h := http.Header{}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	hc := *c.hc
	hc.Timeout = 0
	conn, resp, err := websocket.Dial(ctx, u.String()+agentPath(name, "/join"), &websocket.DialOptions{HTTPClient: &hc, HTTPHeader: h})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			defer resp.Body.Close()
			return nil, problemOf(resp)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UnreachableError{err}
	}
	s := &Session{name: name, conn: conn, pending: map[string]chan api.WSFrame{}, arrived: make(chan struct{}, 1), done: make(chan struct{}), quit: make(chan struct{})}
	f, err := s.read(ctx)
	switch {
	case err != nil:
		_ = conn.CloseNow()
		return nil, err
	case f.Type == api.FrameError && f.Problem != nil:
		_ = conn.CloseNow()
		return nil, f.Problem
	case f.Type != api.FrameJoined:
		_ = conn.CloseNow()
		return nil, fmt.Errorf("client: the server's first frame is %q, not %q", f.Type, api.FrameJoined)
	}
	go s.loop()
	return s, nil
}

func (s *Session) read(ctx context.Context) (api.WSFrame, error) {
	var f api.WSFrame
	_, b, err := s.conn.Read(ctx)
	if err != nil {
		return f, &UnreachableError{err}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("client: a frame that is not JSON: %w", err)
	}
	return f, nil
}

// loop reads frames: deliveries go to Receive, answers to their Send.
func (s *Session) loop() {
	var err error
	defer func() {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.done)
	}()
	for {
		var f api.WSFrame
		if f, err = s.read(context.Background()); err != nil {
			select {
			case <-s.quit:
				err = ErrSessionClosed
			default:
			}
			return
		}
		switch f.Type {
		case api.FrameMessage:
			m, merr := acl.Unmarshal(f.Message)
			if merr != nil { // refuse it for good: it will not decode next time either
				_ = s.write(context.Background(), api.WSFrame{Type: api.FrameNack, Delivery: f.Delivery, Reason: merr.Error(), Permanent: true})
				continue
			}
			s.mu.Lock()
			s.inbox = append(s.inbox, Delivery{Message: m, ID: f.Delivery})
			s.mu.Unlock()
			select {
			case s.arrived <- struct{}{}:
			default: // a token is already there
			}
		case api.FrameSent, api.FrameError:
			s.mu.Lock()
			ch := s.pending[f.Ref]
			delete(s.pending, f.Ref)
			s.mu.Unlock()
			if ch != nil {
				ch <- f
			}
		}
	}
}

// Name is the agent the session is joined as.
func (s *Session) Name() string { return s.name }

// Receive returns the next message for the agent, waiting until one
// comes, ctx ends, or the session ends (then its error).
func (s *Session) Receive(ctx context.Context) (Delivery, error) {
	for {
		s.mu.Lock()
		if len(s.inbox) > 0 {
			d := s.inbox[0]
			s.inbox = s.inbox[1:]
			more := len(s.inbox) > 0
			s.mu.Unlock()
			if more {
				select {
				case s.arrived <- struct{}{}:
				default:
				}
			}
			return d, nil
		}
		s.mu.Unlock()
		select {
		case <-s.arrived:
		case <-s.done:
			return Delivery{}, s.Err()
		case <-ctx.Done():
			return Delivery{}, ctx.Err()
		}
	}
}

// Ack tells the server the delivery is handled.
func (s *Session) Ack(ctx context.Context, d Delivery) error {
	return s.write(ctx, api.WSFrame{Type: api.FrameAck, Delivery: d.ID})
}

// Nack refuses a delivery: the server retries it (reason as the error),
// or dead-letters it at once when permanent.
func (s *Session) Nack(ctx context.Context, d Delivery, reason string, permanent bool) error {
	return s.write(ctx, api.WSFrame{Type: api.FrameNack, Delivery: d.ID, Reason: reason, Permanent: permanent})
}

// Send sends m as the agent (its sender is left out or is the agent) and
// returns the message id the runtime stamped; a refusal is the server's
// *api.Problem.
func (s *Session) Send(ctx context.Context, m *acl.Message) (string, error) {
	b, err := acl.Marshal(m)
	if err != nil {
		return "", err
	}
	return s.SendRaw(ctx, b)
}

// SendRaw sends a JSON message as written (any form the API takes).
func (s *Session) SendRaw(ctx context.Context, msg json.RawMessage) (string, error) {
	s.mu.Lock()
	s.seq++
	ref := strconv.FormatUint(s.seq, 10)
	ch := make(chan api.WSFrame, 1)
	s.pending[ref] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, ref)
		s.mu.Unlock()
	}()
	if err := s.write(ctx, api.WSFrame{Type: api.FrameSend, Ref: ref, Message: msg}); err != nil {
		return "", err
	}
	select {
	case f := <-ch:
		if f.Type == api.FrameError {
			if f.Problem == nil {
				return "", fmt.Errorf("client: the server refused the message without a reason")
			}
			return "", f.Problem
		}
		return f.ID, nil
	case <-s.done:
		return "", s.Err()
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (s *Session) write(ctx context.Context, f api.WSFrame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := s.conn.Write(ctx, websocket.MessageText, b); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &UnreachableError{err}
	}
	return nil
}

// Err returns why the session ended (nil while it runs).
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Done is closed when the session ends (Close, the server left or the
// connection broke).
func (s *Session) Done() <-chan struct{} { return s.done }

// Close leaves the bus: the agent is stopped on the server and what is
// sent to it waits there for the next Join; deliveries not acknowledged
// are delivered again then.
func (s *Session) Close() error {
	s.once.Do(func() { close(s.quit) })
	err := s.conn.Close(websocket.StatusNormalClosure, "leaving")
	<-s.done
	return err
}

// ErrSessionClosed: the session was closed by Close.
var ErrSessionClosed = errors.New("client: session closed")
