package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/clock"
)

// Client runs initiator conversations over one Endpoint. It owns the
// endpoint's receiving: one goroutine reads every message and hands it to
// the conversation it belongs to (by conversation-id, or by in-reply-to for
// an answer that carries a foreign conversation-id), so many conversations
// — Contract Net rounds, requests, subscriptions — share one inbox without
// stealing each other's replies.
//
// The initiator methods (Request, QueryIf, QueryRef, Propose, Subscribe)
// own the message they are given: they set its performative, protocol,
// conversation-id and reply-with, so build a new one for each call.
//
// A message for no open conversation is not dropped: if its conversation
// ended recently, the handler the conversation left (Conversation.EndWith)
// answers it — a Contract Net round rejects a late proposal as late —
// otherwise the client answers not-understood and logs it, or calls the
// WithUnhandled hook instead.
type Client struct {
	ep        Endpoint
	clock     clock.Clock
	logger    *slog.Logger
	unhandled func(context.Context, *acl.Message)
	retention int
	queueCap  int
	ids       *acl.IDGenerator

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu          sync.Mutex
	convs       map[string]*Conversation
	byReplyWith map[string]*Conversation
	ended       map[string]func(context.Context, *acl.Message)
	endedOrder  []string // FIFO of ended ids, bounded by retention
	err         error    // why the client stopped; nil while running
	syncs       map[string]chan struct{}
	syncSeq     atomic.Uint64
}

// Option configures a Client.
type Option func(*Client)

// WithClock sets the clock deadlines are measured on. Default: the
// endpoint's clock if it has one (a *caxton.Inbox has its runtime's, so a
// fake clock drives deadlines in tests without this option), else real
// time. A nil c keeps the default.
func WithClock(c clock.Clock) Option {
	return func(cl *Client) {
		if c != nil {
			cl.clock = c
		}
	}
}

// Clocked is an Endpoint that has a clock, which a Client then measures its
// deadlines on by default: a runtime's inbox has the runtime's clock.
type Clocked interface {
	Clock() clock.Clock
}

// WithLogger sets where unhandled messages are logged. Default, and what a
// nil l means (as in every Caxton package): discard.
func WithLogger(l *slog.Logger) Option {
	return func(cl *Client) {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		cl.logger = l
	}
}

// WithUnhandled replaces the default treatment of a message that belongs to
// no conversation (answer not-understood, log a warning) with fn.
func WithUnhandled(fn func(ctx context.Context, m *acl.Message)) Option {
	return func(cl *Client) { cl.unhandled = fn }
}

// WithRetention sets how many ended conversations keep their after-end
// handler (default 4096); older ones count as unknown.
func WithRetention(n int) Option { return func(cl *Client) { cl.retention = n } }

// WithConversationBuffer bounds the messages waiting in one conversation
// (default 65536). A message beyond it is answered with failure, never
// held without bound or dropped silently.
func WithConversationBuffer(n int) Option { return func(cl *Client) { cl.queueCap = n } }

// NewClient starts a client reading ep. Close it when done; closing the
// endpoint also stops it. The client must be ep's only reader: a second
// reader (another Client, or Receive calls) would take replies meant for
// the client's conversations.
func NewClient(ep Endpoint, opts ...Option) *Client {
	c := &Client{
		ep:          ep,
		clock:       clock.Real(),
		logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		retention:   4096,
		queueCap:    1 << 16,
		ids:         acl.NewIDGenerator(),
		done:        make(chan struct{}),
		convs:       make(map[string]*Conversation),
		byReplyWith: make(map[string]*Conversation),
		ended:       make(map[string]func(context.Context, *acl.Message)),
		syncs:       make(map[string]chan struct{}),
	}
	if ce, ok := ep.(Clocked); ok && ce.Clock() != nil {
		c.clock = ce.Clock()
	}
	for _, o := range opts {
		o(c)
	}
	if c.retention < 0 {
		c.retention = 0
	}
	if c.queueCap < 1 {
		c.queueCap = 1
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.loop()
	return c
}

// Name returns the endpoint's name: the initiator's address.
func (c *Client) Name() acl.AgentID { return c.ep.Name() }

// Clock returns the client's clock.
func (c *Client) Clock() clock.Clock { return c.clock }

// Close stops reading the endpoint and ends every open conversation with
// ErrClosed. It does not close the endpoint.
func (c *Client) Close() error {
	c.cancel()
	<-c.done
	return nil
}

func (c *Client) loop() {
	defer close(c.done)
	for {
		m, err := c.ep.Receive(c.ctx)
		if err != nil {
			if c.ctx.Err() == nil {
				err = fmt.Errorf("%w: %w", ErrClosed, err)
			} else {
				err = ErrClosed
			}
			c.stop(err)
			return
		}
		if !c.synced(m) {
			c.dispatch(m)
		}
	}
}

// stop fails every open conversation with err.
func (c *Client) stop(err error) {
	c.mu.Lock()
	c.err = err
	convs := c.convs
	c.convs = map[string]*Conversation{}
	c.byReplyWith = map[string]*Conversation{}
	c.mu.Unlock()
	for _, cv := range convs {
		cv.fail(err)
	}
}

func (c *Client) dispatch(m *acl.Message) {
	c.mu.Lock()
	cv := c.convs[m.ConversationID]
	if cv == nil && m.InReplyTo != "" {
		cv = c.byReplyWith[m.InReplyTo]
	}
	after := c.ended[m.ConversationID]
	c.mu.Unlock()
	switch {
	case cv != nil:
		switch cv.push(m) {
		case pushFull:
			c.logger.WarnContext(acl.NewContext(c.ctx, m), "protocol: conversation buffer full; answered failure", "conversation_id", cv.id, "message_id", m.ID, "sender", m.Sender, "performative", m.Performative)
			if m.Performative != acl.NotUnderstood && m.Performative != acl.Failure { // answering those could loop
				c.answer(m, acl.Failure, "the conversation's buffer is full")
			}
		case pushEnded: // it ended (and unregistered) meanwhile
			c.dispatch(m)
		}
	case after != nil:
		ctx, cancel := context.WithTimeout(c.ctx, answerTimeout)
		after(acl.NewContext(ctx, m), m)
		cancel()
	case c.unhandled != nil:
		c.unhandled(acl.NewContext(c.ctx, m), m)
	default:
		c.logger.WarnContext(acl.NewContext(c.ctx, m), "protocol: message for no open conversation", "conversation_id", m.ConversationID, "message_id", m.ID, "sender", m.Sender, "performative", m.Performative)
		if m.Performative != acl.NotUnderstood && m.Performative != acl.Failure {
			c.answer(m, acl.NotUnderstood, "no open conversation "+quote(m.ConversationID))
		}
	}
}

// answer replies to m from the client's endpoint, logging a failure to send.
func (c *Client) answer(m *acl.Message, p acl.Performative, reason string) {
	ctx, cancel := context.WithTimeout(c.ctx, answerTimeout)
	defer cancel()
	if err := ReplyReason(ctx, endpointConn{c}, m, p, reason); err != nil && c.ctx.Err() == nil {
		c.logger.WarnContext(acl.NewContext(c.ctx, m), "protocol: could not answer", "receiver", m.Sender, "performative", p, "error", err)
	}
}

// answerTimeout bounds a send the reading goroutine makes (an answer to a
// stray, an after-end handler's): a peer with a full, blocking mailbox must
// not stall every conversation of the client.
const answerTimeout = 2 * time.Second

// endpointConn adapts the client to Conn for its own answers.
type endpointConn struct{ c *Client }

func (e endpointConn) Send(ctx context.Context, m *acl.Message) error { return e.c.ep.Send(ctx, m) }
func (e endpointConn) Now() time.Time                                 { return e.c.clock.Now() }

// Answer sends an answer to m from the client's endpoint (for after-end
// handlers: see Conversation.EndWith).
func (c *Client) Answer(ctx context.Context, m *acl.Message, p acl.Performative, reason string) error {
	return ReplyReason(ctx, endpointConn{c}, m, p, reason)
}

// Open starts a conversation. An empty id gets a fresh unique one; an id
// already open is an error.
func (c *Client) Open(id string) (*Conversation, error) {
	if id == "" {
		id = c.ids.New(c.clock.Now()).String()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if _, dup := c.convs[id]; dup {
		return nil, &acl.FieldError{Field: "conversation_id", Reason: fmt.Sprintf("conversation %q is already open", id)}
	}
	if _, had := c.ended[id]; had {
		// Reopened: forget the old ending entirely, or its stale place in
		// endedOrder would evict the new one's after-handler early.
		delete(c.ended, id)
		c.endedOrder = slices.DeleteFunc(c.endedOrder, func(e string) bool { return e == id })
	}
	cv := &Conversation{c: c, id: id, notify: make(chan struct{})}
	c.convs[id] = cv
	return cv, nil
}

// end unregisters cv, leaving after (if any) to answer its stragglers.
func (c *Client) end(cv *Conversation, after func(context.Context, *acl.Message)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.convs[cv.id] == cv {
		delete(c.convs, cv.id)
	}
	for _, rw := range cv.replyWiths {
		if c.byReplyWith[rw] == cv {
			delete(c.byReplyWith, rw)
		}
	}
	if after == nil || c.retention == 0 {
		return
	}
	if _, had := c.ended[cv.id]; !had {
		c.endedOrder = append(c.endedOrder, cv.id)
	}
	c.ended[cv.id] = after
	for len(c.endedOrder) > c.retention {
		delete(c.ended, c.endedOrder[0])
		c.endedOrder = c.endedOrder[1:]
	}
}

func (c *Client) register(cv *Conversation, replyWith string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.convs[cv.id] == cv {
		c.byReplyWith[replyWith] = cv
	}
}

// Deadline returns a channel closed when the client's clock reaches t, and
// a function that releases the timer. One deadline serves a whole protocol
// phase: receiving against it never consumes it.
func (c *Client) Deadline(t time.Time) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	if t.IsZero() {
		return ch, func() {} // never
	}
	d := t.Sub(c.clock.Now())
	if d <= 0 {
		close(ch)
		return ch, func() {}
	}
	tm := c.clock.NewTimer(d)
	stop := make(chan struct{})
	var once sync.Once
	go func() {
		select {
		case <-tm.C():
			close(ch)
		case <-stop:
		}
	}()
	return ch, func() {
		once.Do(func() {
			tm.Stop() // at once, so a fake clock no longer counts it as pending
			close(stop)
		})
	}
}

// syncPrefix marks the conversation-id of Sync's markers.
const syncPrefix = "caxton-protocol-sync:"

// Sync returns once every message that reached the endpoint before the
// call has been handed to its conversation. It sends a marker through the
// endpoint to itself — the bus delivers in order — and waits for the
// reading goroutine to meet it. A protocol phase that ends at a deadline
// syncs before its last look, so a message that arrived in time is not
// missed because the reader was a little behind.
func (c *Client) Sync(ctx context.Context) error {
	id := syncPrefix + strconv.FormatUint(c.syncSeq.Add(1), 10)
	ch := make(chan struct{})
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.syncs[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.syncs, id)
		c.mu.Unlock()
	}
	m := &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{c.ep.Name()}, ConversationID: id}
	// The marker is plumbing, not part of the caller's conversation: send it
	// with a context that has the caller's cancellation but not its values
	// (a trace span), so it does not show up inside the caller's trace.
	sendCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	if err := c.ep.Send(sendCtx, m); err != nil {
		forget()
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		forget()
		return ctx.Err()
	case <-c.done:
		return ErrClosed
	}
}

// synced consumes a Sync marker; it reports whether m was one.
func (c *Client) synced(m *acl.Message) bool {
	if m.Sender != c.ep.Name() || !strings.HasPrefix(m.ConversationID, syncPrefix) {
		return false
	}
	c.mu.Lock()
	ch, ok := c.syncs[m.ConversationID]
	delete(c.syncs, m.ConversationID)
	c.mu.Unlock()
	if ok {
		close(ch)
	}
	return true // a marker whose Sync gave up is dropped all the same
}

var errNilMessage = errors.New("protocol: nil message")
