package mcpserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

// facePerformative is a performative argument; its schema enumerates the
// 22 FIPA names, so the model sees the valid values.
type facePerformative string

// faceSelector is contract_net's selector argument.
type faceSelector string

// The selectors contract_net offers.
const (
	faceLowestCost   faceSelector = "lowest_cost"
	faceHighestScore faceSelector = "highest_score"
	faceFirstN       faceSelector = "first_n"
	faceSelectNone   faceSelector = "none"
)

func faceBool(b bool) *bool { return &b }

// faceArgErr reports a bad tool argument, naming it.
func faceArgErr(field, format string, args ...any) error {
	return fmt.Errorf("invalid argument %q: %s", field, fmt.Sprintf(format, args...))
}

// faceRuntimeErr explains a runtime error to the model.
func faceRuntimeErr(what string, err error) error {
	var hint string
	switch {
	case errors.Is(err, acl.ErrInvalid):
		hint = "the message is invalid"
	case errors.Is(err, caxton.ErrAgentNotFound):
		hint = "unknown agent (list_agents shows the agent names)"
	case errors.Is(err, caxton.ErrNoSubscribers):
		hint = "nobody subscribes to that topic"
	case errors.Is(err, caxton.ErrMailboxFull):
		hint = "the receiver's mailbox is full; try again later"
	case errors.Is(err, caxton.ErrClosed):
		hint = "the runtime is shutting down"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		hint = "the call was cancelled"
	default:
		return fmt.Errorf("%s failed: %w", what, err)
	}
	return fmt.Errorf("%s failed: %s: %w", what, hint, err)
}

func (f *face) alive() error {
	if f.closed.Load() {
		return errFaceClosed
	}
	return nil
}

// faceReceivers validates receiver names.
func faceReceivers(field string, rs []string) ([]acl.AgentID, error) {
	if len(rs) == 0 {
		return nil, faceArgErr(field, "at least one receiver is required (an agent name, or topic:NAME for a topic's subscribers)")
	}
	out := make([]acl.AgentID, 0, len(rs))
	for i, r := range rs {
		id := acl.AgentID(r)
		if err := id.Validate(); err != nil {
			return nil, faceArgErr(fmt.Sprintf("%s[%d]", field, i), "%v", err)
		}
		if slices.Contains(out, id) {
			return nil, faceArgErr(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", r)
		}
		out = append(out, id)
	}
	return out, nil
}

func faceParsePerformative(p facePerformative, def acl.Performative) (acl.Performative, error) {
	if p == "" && def != 0 {
		return def, nil
	}
	v, err := acl.ParsePerformative(string(p))
	if err != nil {
		return 0, faceArgErr("performative", "unknown communicative act %q (use a FIPA act such as inform, request, query-ref, cfp)", p)
	}
	return v, nil
}

// wait turns a millisecond argument into a duration: def when zero, an
// error naming field when negative or above the server's maximum.
func (f *face) wait(field string, ms int64, def time.Duration) (time.Duration, error) {
	switch {
	case ms < 0:
		return 0, faceArgErr(field, "%d is negative", ms)
	case ms == 0:
		return def, nil
	case ms > f.cfg.maxTimeout.Milliseconds():
		return 0, faceArgErr(field, "%d ms exceeds this server's limit of %d ms", ms, f.cfg.maxTimeout.Milliseconds())
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// clockContext returns a context that ends when ctx does or when d has
// passed on the runtime's clock.
func (f *face) clockContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	t := f.rt.Clock().NewTimer(d)
	go func() {
		defer t.Stop()
		select {
		case <-t.C():
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func faceNames[T ~string](ids []T) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// faceContent renders content as text, or base64 when it is not UTF-8.
func faceContent(b []byte) (text, b64 string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return "", base64.StdEncoding.EncodeToString(b)
}

func faceTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// ---- list_agents

func faceListAgentsTool() *sdk.Tool {
	return &sdk.Tool{
		Name:  ToolListAgents,
		Title: "List agents",
		Description: "List the agents hosted by the Caxton runtime: name, lifecycle state (running, stopped, failed), replicas, " +
			"queued and in-flight messages, counts of processed, failed and dead-lettered messages, last error, subscribed topics " +
			"and advertised capabilities. Filter by capability or topic. Also reports this server's own inbox address.",
		Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: faceBool(false)},
	}
}

type faceListAgentsIn struct {
	Capability string `json:"capability,omitempty" jsonschema:"only agents advertising this capability"`
	Topic      string `json:"topic,omitempty" jsonschema:"only agents subscribed to this topic (with or without the topic: prefix)"`
}

type faceAgent struct {
	Name         string   `json:"name" jsonschema:"the agent's address: use it as a receiver"`
	State        string   `json:"state" jsonschema:"running, stopped (messages queue up) or failed (exceeded its restart policy)"`
	Replicas     int      `json:"replicas"`
	QueueDepth   int      `json:"queue_depth" jsonschema:"messages waiting in its mailboxes"`
	InFlight     int      `json:"in_flight" jsonschema:"messages being handled now"`
	Processed    uint64   `json:"processed" jsonschema:"messages handled successfully"`
	Failed       uint64   `json:"failed" jsonschema:"failed handling attempts"`
	Retried      uint64   `json:"retried"`
	DeadLettered uint64   `json:"dead_lettered" jsonschema:"messages given up on (see dead_letters)"`
	Restarts     uint64   `json:"restarts"`
	LastError    string   `json:"last_error,omitempty"`
	Topics       []string `json:"topics"`
	Capabilities []string `json:"capabilities"`
}

type faceListAgentsOut struct {
	Agents       []faceAgent `json:"agents"`
	Inbox        string      `json:"inbox" jsonschema:"this server's own address: the sender of its messages, where replies arrive"`
	InboxWaiting int         `json:"inbox_waiting" jsonschema:"messages waiting in this server's inbox for receive_messages"`
	DeadLetters  int         `json:"dead_letters" jsonschema:"entries in the dead-letter queue"`
}

func (f *face) listAgents(ctx context.Context, _ *sdk.CallToolRequest, in faceListAgentsIn) (*sdk.CallToolResult, faceListAgentsOut, error) {
	var out faceListAgentsOut
	if err := f.alive(); err != nil {
		return nil, out, err
	}
	var keep map[acl.AgentID]bool
	filter := func(ids []acl.AgentID) {
		m := make(map[acl.AgentID]bool, len(ids))
		for _, id := range ids {
			if keep == nil || keep[id] {
				m[id] = true
			}
		}
		keep = m
	}
	if in.Capability != "" {
		filter(f.rt.Capable(in.Capability))
	}
	if in.Topic != "" {
		filter(f.rt.Subscribers(strings.TrimPrefix(in.Topic, acl.TopicPrefix)))
	}
	out.Agents = []faceAgent{}
	for _, a := range f.rt.Agents() {
		if keep != nil && !keep[a.Name] {
			continue
		}
		out.Agents = append(out.Agents, faceAgent{
			Name: string(a.Name), State: a.State.String(), Replicas: a.Replicas,
			QueueDepth: a.QueueDepth, InFlight: a.InFlight, Processed: a.Processed, Failed: a.Failed,
			Retried: a.Retried, DeadLettered: a.DeadLettered, Restarts: a.Restarts, LastError: a.LastError,
			Topics: append([]string{}, a.Topics...), Capabilities: append([]string{}, a.Capabilities...),
		})
	}
	out.Inbox = string(f.inbox.Name())
	out.InboxWaiting = f.inbox.Len()
	for _, err := range f.rt.AllDeadLetters(ctx) {
		if err != nil {
			return nil, out, faceRuntimeErr("reading the dead-letter queue", err)
		}
		out.DeadLetters++
	}
	return nil, out, nil
}

// ---- send_message and request

// faceMessageArgs are the message fields send_message and request share.
type faceMessageArgs struct {
	Receivers      []string `json:"receivers" jsonschema:"who gets the message: agent names (see list_agents), or topic:NAME for every subscriber of topic NAME"`
	Content        string   `json:"content,omitempty" jsonschema:"the message content (text; JSON if the agent expects it)"`
	ConversationID string   `json:"conversation_id,omitempty" jsonschema:"groups messages of one conversation; set it to continue one"`
	Protocol       string   `json:"protocol,omitempty" jsonschema:"the interaction protocol, e.g. fipa-request"`
	Ontology       string   `json:"ontology,omitempty" jsonschema:"the vocabulary the content uses"`
	Language       string   `json:"language,omitempty" jsonschema:"the content language, e.g. json"`
}

func (a faceMessageArgs) message(p acl.Performative) (*acl.Message, error) {
	rs, err := faceReceivers("receivers", a.Receivers)
	if err != nil {
		return nil, err
	}
	m := acl.New(p, rs...)
	if a.Content != "" {
		m.Content = []byte(a.Content)
	}
	m.ConversationID, m.Protocol, m.Ontology, m.Language = a.ConversationID, a.Protocol, a.Ontology, a.Language
	return m, nil
}

func faceSendMessageTool() *sdk.Tool {
	return &sdk.Tool{
		Name:  ToolSendMessage,
		Title: "Send an ACL message",
		Description: "Send one FIPA ACL message to agents (or topic:NAME subscribers) and return at once with its message id. " +
			"It does not wait for an answer: replies arrive in this server's inbox, read them with receive_messages. " +
			"To ask something and wait for the reply, use request instead. Set in_reply_to and conversation_id to answer a message you received.",
		Annotations: &sdk.ToolAnnotations{DestructiveHint: faceBool(false), OpenWorldHint: faceBool(false)},
	}
}

type faceSendIn struct {
	Performative facePerformative `json:"performative" jsonschema:"the communicative act: inform to tell, request to ask for an action, query-ref to ask for a value, ..."`
	faceMessageArgs
	InReplyTo string `json:"in_reply_to,omitempty" jsonschema:"the reply_with of the message this answers"`
	ReplyWith string `json:"reply_with,omitempty" jsonschema:"a token the receiver should put in the in_reply_to of its answer"`
}

type faceSendOut struct {
	MessageID      string   `json:"message_id"`
	Sender         string   `json:"sender" jsonschema:"this server's inbox, where replies arrive"`
	Receivers      []string `json:"receivers"`
	ConversationID string   `json:"conversation_id,omitempty"`
}

func (f *face) sendMessage(ctx context.Context, _ *sdk.CallToolRequest, in faceSendIn) (*sdk.CallToolResult, faceSendOut, error) {
	var out faceSendOut
	if err := f.alive(); err != nil {
		return nil, out, err
	}
	p, err := faceParsePerformative(in.Performative, 0)
	if err != nil {
		return nil, out, err
	}
	m, err := in.message(p)
	if err != nil {
		return nil, out, err
	}
	m.InReplyTo, m.ReplyWith = in.InReplyTo, in.ReplyWith
	if err := f.inbox.Send(ctx, m); err != nil {
		return nil, out, faceRuntimeErr("send_message", err)
	}
	// The runtime stamped id and sender before queueing and writes no more.
	out = faceSendOut{MessageID: m.ID.String(), Sender: string(m.Sender), Receivers: faceNames(m.Receivers), ConversationID: m.ConversationID}
	return nil, out, nil
}

func faceRequestTool() *sdk.Tool {
	return &sdk.Tool{
		Name:  ToolRequest,
		Title: "Ask an agent and wait for the reply",
		Description: "Send a message (performative request by default) and wait for the reply, up to timeout_ms (default 10000). " +
			"Returns the reply: its performative (inform, agree, refuse, failure, not-understood, ...), sender and content. " +
			"A refuse or failure reply is still a reply: read its content for the reason. With several receivers or a topic, the first reply wins.",
		Annotations: &sdk.ToolAnnotations{DestructiveHint: faceBool(false), OpenWorldHint: faceBool(false)},
	}
}

type faceRequestIn struct {
	Performative facePerformative `json:"performative,omitempty" jsonschema:"the communicative act (default request; query-ref or query-if to ask for information)"`
	faceMessageArgs
	TimeoutMS int64 `json:"timeout_ms,omitempty" jsonschema:"how long to wait for the reply, in milliseconds (default 10000)"`
}

// faceMessageOut is a message as the model sees it.
type faceMessageOut struct {
	MessageID      string   `json:"message_id"`
	Performative   string   `json:"performative"`
	Sender         string   `json:"sender"`
	Receivers      []string `json:"receivers"`
	Content        string   `json:"content" jsonschema:"the content as text (empty when content_base64 is set)"`
	ContentBase64  string   `json:"content_base64,omitempty" jsonschema:"the content, base64-encoded, when it is not UTF-8 text"`
	ConversationID string   `json:"conversation_id,omitempty"`
	InReplyTo      string   `json:"in_reply_to,omitempty"`
	ReplyWith      string   `json:"reply_with,omitempty" jsonschema:"put this in in_reply_to when answering"`
	Protocol       string   `json:"protocol,omitempty"`
	Ontology       string   `json:"ontology,omitempty"`
	Language       string   `json:"language,omitempty"`
	CreatedAt      string   `json:"created_at,omitempty"`
}

func faceMessage(m *acl.Message) faceMessageOut {
	text, b64 := faceContent(m.Content)
	return faceMessageOut{
		MessageID: m.ID.String(), Performative: m.Performative.String(), Sender: string(m.Sender),
		Receivers: faceNames(m.Receivers), Content: text, ContentBase64: b64,
		ConversationID: m.ConversationID, InReplyTo: m.InReplyTo, ReplyWith: m.ReplyWith,
		Protocol: m.Protocol, Ontology: m.Ontology, Language: m.Language, CreatedAt: faceTime(m.CreatedAt),
	}
}

func (f *face) request(ctx context.Context, _ *sdk.CallToolRequest, in faceRequestIn) (*sdk.CallToolResult, faceMessageOut, error) {
	var out faceMessageOut
	if err := f.alive(); err != nil {
		return nil, out, err
	}
	p, err := faceParsePerformative(in.Performative, acl.Request)
	if err != nil {
		return nil, out, err
	}
	d, err := f.wait("timeout_ms", in.TimeoutMS, f.cfg.timeout)
	if err != nil {
		return nil, out, err
	}
	m, err := in.message(p)
	if err != nil {
		return nil, out, err
	}
	m.ReplyBy = f.rt.Clock().Now().Add(d)
	reply, err := f.inbox.Request(ctx, m)
	if errors.Is(err, caxton.ErrNoReply) {
		return nil, out, fmt.Errorf("request failed: no reply from %s within %v (timeout_ms); a late reply will wait in this server's inbox for receive_messages",
			strings.Join(in.Receivers, ", "), d)
	}
	if err != nil {
		return nil, out, faceRuntimeErr("request", err)
	}
	return nil, faceMessage(reply), nil
}

// ---- receive_messages

func faceReceiveMessagesTool() *sdk.Tool {
	return &sdk.Tool{
		Name:  ToolReceiveMessages,
		Title: "Read this server's inbox",
		Description: "Take the messages waiting in this server's inbox, oldest first: replies to send_message, late replies to request, " +
			"and anything agents addressed to this server. Taken messages are removed. If none is waiting, wait up to wait_ms for one (default: return at once).",
		// Messages taken are gone from the inbox: a second call returns others.
		Annotations: &sdk.ToolAnnotations{DestructiveHint: faceBool(true), IdempotentHint: false, OpenWorldHint: faceBool(false)},
	}
}

const (
	faceReceiveDefault = 10
	faceReceiveMax     = 100
)

type faceReceiveIn struct {
	Max            int    `json:"max,omitempty" jsonschema:"the most messages to take (default 10, at most 100)"`
	WaitMS         int64  `json:"wait_ms,omitempty" jsonschema:"if no message is waiting, wait up to this many milliseconds for one (default 0)"`
	ConversationID string `json:"conversation_id,omitempty" jsonschema:"only take messages of this conversation"`
}

type faceReceiveOut struct {
	Messages  []faceMessageOut `json:"messages"`
	Remaining int              `json:"remaining" jsonschema:"messages still waiting (of any conversation)"`
}

func (f *face) receiveMessages(ctx context.Context, _ *sdk.CallToolRequest, in faceReceiveIn) (*sdk.CallToolResult, faceReceiveOut, error) {
	out := faceReceiveOut{Messages: []faceMessageOut{}}
	if err := f.alive(); err != nil {
		return nil, out, err
	}
	switch {
	case in.Max < 0:
		return nil, out, faceArgErr("max", "%d is negative", in.Max)
	case in.Max > faceReceiveMax:
		return nil, out, faceArgErr("max", "%d is above the limit of %d", in.Max, faceReceiveMax)
	case in.Max == 0:
		in.Max = faceReceiveDefault
	}
	d, err := f.wait("wait_ms", in.WaitMS, 0)
	if err != nil {
		return nil, out, err
	}
	var tmpl acl.Template
	if in.ConversationID != "" {
		tmpl = acl.MatchConversationID(in.ConversationID)
	}
	if d > 0 { // wait for a first message
		wctx, stop := f.clockContext(ctx, d)
		m, err := f.inbox.ReceiveMatching(wctx, tmpl)
		stop()
		switch {
		case err == nil:
			out.Messages = append(out.Messages, faceMessage(m))
		case ctx.Err() != nil:
			return nil, out, faceRuntimeErr("receive_messages", ctx.Err())
		case errors.Is(err, caxton.ErrClosed):
			return nil, out, faceRuntimeErr("receive_messages", err)
		}
	}
	now, cancel := context.WithCancel(ctx)
	cancel() // a done context makes ReceiveMatching take only what is there
	for len(out.Messages) < in.Max {
		m, err := f.inbox.ReceiveMatching(now, tmpl)
		if err != nil {
			break // nothing (more) waiting
		}
		out.Messages = append(out.Messages, faceMessage(m))
	}
	out.Remaining = f.inbox.Len()
	return nil, out, nil
}
