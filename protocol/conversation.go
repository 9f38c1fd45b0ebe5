package protocol

import (
	"context"
	"strconv"
	"sync"

	"github.com/caxton-go/caxton/acl"
)

// Conversation is one open conversation of a Client: what it sends carries
// its conversation-id, and what arrives for it waits here, in arrival
// order, until received. End it when the protocol is over.
type Conversation struct {
	c  *Client
	id string

	mu         sync.Mutex
	queue      []*acl.Message
	notify     chan struct{} // closed and replaced on every arrival
	err        error         // set when the client stopped
	ended      bool          // End was called: Send refuses
	closed     bool          // unregistered and drained: push refuses
	seq        int
	replyWiths []string
}

// ID returns the conversation-id.
func (cv *Conversation) ID() string { return cv.id }

// Client returns the client the conversation belongs to.
func (cv *Conversation) Client() *Client { return cv.c }

// Send sends m in this conversation: it sets m's conversation-id (a
// different one is an error) and, when empty, a reply-with unique in the
// conversation, so an answer that carries a foreign conversation-id is
// still routed here (and can be reported as a violation).
func (cv *Conversation) Send(ctx context.Context, m *acl.Message) error {
	if m == nil {
		return errNilMessage
	}
	if m.ConversationID == "" {
		m.ConversationID = cv.id
	} else if m.ConversationID != cv.id {
		return &acl.FieldError{Field: "conversation_id", Reason: "message is for conversation " + quote(m.ConversationID) + ", not " + quote(cv.id)}
	}
	cv.mu.Lock()
	if cv.ended {
		cv.mu.Unlock()
		return ErrClosed
	}
	if m.ReplyWith == "" {
		cv.seq++
		m.ReplyWith = cv.id + "." + strconv.Itoa(cv.seq)
	}
	cv.replyWiths = append(cv.replyWiths, m.ReplyWith)
	cv.mu.Unlock()
	cv.c.register(cv, m.ReplyWith)
	return cv.c.ep.Send(ctx, m)
}

// push results.
const (
	pushed = iota
	pushFull
	pushEnded // the conversation ended after dispatch looked it up
)

// push queues an arrival.
func (cv *Conversation) push(m *acl.Message) int {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	if cv.closed {
		return pushEnded
	}
	if len(cv.queue) >= cv.c.queueCap {
		return pushFull
	}
	cv.queue = append(cv.queue, m)
	close(cv.notify)
	cv.notify = make(chan struct{})
	return pushed
}

func (cv *Conversation) fail(err error) {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	if cv.err == nil {
		cv.err = err
		close(cv.notify)
		cv.notify = make(chan struct{})
	}
}

// TryReceive returns the oldest waiting message without blocking.
func (cv *Conversation) TryReceive() (*acl.Message, bool) {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	if len(cv.queue) == 0 {
		return nil, false
	}
	m := cv.queue[0]
	cv.queue[0] = nil
	cv.queue = cv.queue[1:]
	return m, true
}

// Receive returns the oldest waiting message, waiting up to ctx.
func (cv *Conversation) Receive(ctx context.Context) (*acl.Message, error) {
	return cv.ReceiveBefore(ctx, nil)
}

// ReceiveBefore is Receive that gives up with ErrTimeout once deadline is
// closed (see Client.Deadline). Messages already waiting are returned even
// after the deadline, so nothing that arrived in time is missed.
func (cv *Conversation) ReceiveBefore(ctx context.Context, deadline <-chan struct{}) (*acl.Message, error) {
	for {
		cv.mu.Lock()
		if len(cv.queue) > 0 {
			m := cv.queue[0]
			cv.queue[0] = nil
			cv.queue = cv.queue[1:]
			cv.mu.Unlock()
			return m, nil
		}
		err, ch := cv.err, cv.notify
		if err == nil && cv.closed {
			err = ErrClosed // ended: nothing more will arrive here
		}
		cv.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-ch:
		case <-deadline:
			if m, ok := cv.TryReceive(); ok {
				return m, nil
			}
			return nil, ErrTimeout
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Pending returns how many messages wait to be received.
func (cv *Conversation) Pending() int {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	return len(cv.queue)
}

// End closes the conversation. Messages still waiting and any that arrive
// later are treated as for an unknown conversation.
func (cv *Conversation) End() { cv.EndWith(nil) }

// EndWith closes the conversation and leaves after to handle what arrives
// for it later (and what was still waiting): a Contract Net round answers a
// late proposal with reject-proposal. The client keeps after for its most
// recent ended conversations (WithRetention). after runs on the client's
// reading goroutine — except for the messages still waiting, which EndWith
// hands to it on the caller's goroutine — so it must not block for long.
// A Receive waiting on the conversation returns ErrClosed.
func (cv *Conversation) EndWith(after func(ctx context.Context, m *acl.Message)) {
	cv.mu.Lock()
	if cv.ended {
		cv.mu.Unlock()
		return
	}
	cv.ended = true
	cv.mu.Unlock()
	// Unregister first, then drain: a message dispatch looked up before the
	// conversation was unregistered is either in the queue drained here or
	// refused by push (and dispatched again), never stranded in the queue
	// of an ended conversation.
	cv.c.end(cv, after)
	cv.mu.Lock()
	cv.closed = true
	left := cv.queue
	cv.queue = nil
	close(cv.notify) // wake receivers: they get ErrClosed
	cv.notify = make(chan struct{})
	cv.mu.Unlock()
	for _, m := range left {
		cv.c.dispatch(m)
	}
}
