package acl

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Priority orders messages inside one mailbox: higher priorities are handled
// first, messages of equal priority in the order they arrived. The zero value
// is PriorityNormal. Priority is a Caxton extension; FIPA has no such field.
type Priority int8

// The priority levels a mailbox distinguishes.
const (
	PriorityLow    Priority = -1
	PriorityNormal Priority = 0
	PriorityHigh   Priority = 1
)

// String returns "low", "normal" or "high".
func (p Priority) String() string {
	switch p {
	case PriorityLow:
		return "low"
	case PriorityNormal:
		return "normal"
	case PriorityHigh:
		return "high"
	}
	return "priority(" + itoa(int(p)) + ")"
}

// Valid reports whether p is one of the three defined levels.
func (p Priority) Valid() bool { return p >= PriorityLow && p <= PriorityHigh }

// ParsePriority parses "low", "normal" or "high" (case-insensitive).
func ParsePriority(s string) (Priority, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low":
		return PriorityLow, nil
	case "normal", "":
		return PriorityNormal, nil
	case "high":
		return PriorityHigh, nil
	}
	return 0, fieldErr("priority", "unknown priority %q (want low, normal or high)", s)
}

// Message is a FIPA ACL message (SC00061G) with every message parameter, plus
// the envelope fields a runtime needs: a unique id, the creation time, a
// priority, a trace-context carrier and user-defined "X-" parameters.
//
// A message handed to a runtime's Send belongs to the runtime from then on:
// the sender must not modify it afterwards, and receivers must treat the
// message they are given as read-only, because one message delivered to many
// receivers is shared, not copied. Use Clone to get a private copy.
type Message struct {
	// ID uniquely identifies this message (a UUIDv7). The runtime assigns
	// one on Send when it is zero. Handlers can use it to de-duplicate,
	// since delivery is at-least-once.
	ID MessageID

	Performative Performative // the communicative act; required
	Sender       AgentID      // who sends; the runtime stamps it for agents
	Receivers    []AgentID    // who receives: a set (no duplicates), required
	ReplyTo      AgentID      // where replies go instead of Sender, if set
	Content      []byte       // the payload, opaque to the runtime

	Language string // the content language, e.g. "json", "fipa-sl"
	Encoding string // the content encoding, e.g. "utf-8"
	Ontology string // the vocabulary the content uses
	Protocol string // the interaction protocol, e.g. "fipa-contract-net"

	ConversationID string    // groups the messages of one conversation
	ReplyWith      string    // a reply must carry this in InReplyTo
	InReplyTo      string    // the ReplyWith of the message this answers
	ReplyBy        time.Time // the latest time a reply is wanted; zero = none

	CreatedAt time.Time // when the message was sent; stamped by the runtime
	Priority  Priority  // mailbox ordering; PriorityNormal by default

	// TraceContext carries W3C trace-context entries ("traceparent",
	// "tracestate") so one trace follows a conversation across agents.
	TraceContext map[string]string

	// Params holds user-defined FIPA parameters; every key starts with "X-".
	Params map[string]string
}

// New returns a message with performative p addressed to receivers.
func New(p Performative, receivers ...AgentID) *Message {
	return &Message{Performative: p, Receivers: receivers}
}

// Clone returns a deep copy of m (nil for nil).
func (m *Message) Clone() *Message {
	if m == nil {
		return nil
	}
	c := *m
	c.Receivers = slices.Clone(m.Receivers)
	c.Content = slices.Clone(m.Content)
	c.TraceContext = maps.Clone(m.TraceContext)
	c.Params = maps.Clone(m.Params)
	return &c
}

// SetParam sets a user-defined parameter. The key must start with "X-"
// (any case), as FIPA requires of user-defined parameters.
func (m *Message) SetParam(key, value string) error {
	if err := validateParamKey(key); err != nil {
		return err
	}
	if m.Params == nil {
		m.Params = make(map[string]string, 1)
	}
	m.Params[key] = value
	return nil
}

// Param returns a user-defined parameter's value and whether it is set.
func (m *Message) Param(key string) (string, bool) {
	v, ok := m.Params[key]
	return v, ok
}

// HasReceiver reports whether id is among m's receivers.
func (m *Message) HasReceiver(id AgentID) bool { return slices.Contains(m.Receivers, id) }

// String returns a one-line summary for logs: act, sender, receivers,
// conversation and size — never the content itself.
func (m *Message) String() string {
	if m == nil {
		return "<nil message>"
	}
	var b strings.Builder
	b.WriteString(m.Performative.String())
	b.WriteString(" from=")
	b.WriteString(string(m.Sender))
	b.WriteString(" to=")
	for i, r := range m.Receivers {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(r))
	}
	if m.ConversationID != "" {
		b.WriteString(" conv=")
		b.WriteString(m.ConversationID)
	}
	b.WriteString(" bytes=")
	b.WriteString(itoa(len(m.Content)))
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
