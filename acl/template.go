package acl

import (
	"bytes"
	"slices"
)

// Template is a predicate over messages, used for selective receive and for
// content-based routing rules. Build one from the Match* functions and
// combine with And, Or and Not, or wrap any function. A nil Template matches
// every message.
type Template func(*Message) bool

// Match reports whether m satisfies t. A nil template matches everything; a
// nil message matches nothing.
func (t Template) Match(m *Message) bool {
	if m == nil {
		return false
	}
	return t == nil || t(m)
}

// MatchAll matches every message.
func MatchAll() Template { return func(*Message) bool { return true } }

// And matches when every template matches (true for none).
func And(ts ...Template) Template {
	ts = slices.Clone(ts)
	return func(m *Message) bool {
		for _, t := range ts {
			if !t.Match(m) {
				return false
			}
		}
		return true
	}
}

// Or matches when at least one template matches (false for none).
func Or(ts ...Template) Template {
	ts = slices.Clone(ts)
	return func(m *Message) bool {
		for _, t := range ts {
			if t.Match(m) {
				return true
			}
		}
		return false
	}
}

// Not matches when t does not.
func Not(t Template) Template { return func(m *Message) bool { return !t.Match(m) } }

// Custom wraps an arbitrary predicate; it is the same as converting f to
// Template and exists for readability at call sites.
func Custom(f func(*Message) bool) Template { return Template(f) }

// MatchPerformative matches messages whose act is any of ps.
func MatchPerformative(ps ...Performative) Template {
	ps = slices.Clone(ps)
	return func(m *Message) bool { return slices.Contains(ps, m.Performative) }
}

// MatchID matches the message with this id.
func MatchID(id MessageID) Template { return func(m *Message) bool { return m.ID == id } }

// MatchSender matches messages from id.
func MatchSender(id AgentID) Template { return func(m *Message) bool { return m.Sender == id } }

// MatchReceiver matches messages that list id among their receivers.
func MatchReceiver(id AgentID) Template { return func(m *Message) bool { return m.HasReceiver(id) } }

// MatchReplyTo matches messages whose ReplyTo is id.
func MatchReplyTo(id AgentID) Template { return func(m *Message) bool { return m.ReplyTo == id } }

// MatchConversationID matches messages of conversation id.
func MatchConversationID(id string) Template {
	return func(m *Message) bool { return m.ConversationID == id }
}

// MatchReplyWith matches messages whose ReplyWith is s.
func MatchReplyWith(s string) Template { return func(m *Message) bool { return m.ReplyWith == s } }

// MatchInReplyTo matches replies to the message whose ReplyWith was s.
func MatchInReplyTo(s string) Template { return func(m *Message) bool { return m.InReplyTo == s } }

// MatchProtocol matches messages of interaction protocol p.
func MatchProtocol(p string) Template { return func(m *Message) bool { return m.Protocol == p } }

// MatchOntology matches messages using ontology o.
func MatchOntology(o string) Template { return func(m *Message) bool { return m.Ontology == o } }

// MatchLanguage matches messages whose content language is l.
func MatchLanguage(l string) Template { return func(m *Message) bool { return m.Language == l } }

// MatchEncoding matches messages whose content encoding is e.
func MatchEncoding(e string) Template { return func(m *Message) bool { return m.Encoding == e } }

// MatchPriority matches messages of priority p.
func MatchPriority(p Priority) Template { return func(m *Message) bool { return m.Priority == p } }

// MatchParam matches messages whose user-defined parameter key equals value.
func MatchParam(key, value string) Template {
	return func(m *Message) bool { v, ok := m.Params[key]; return ok && v == value }
}

// MatchContent matches messages whose content equals b.
func MatchContent(b []byte) Template {
	b = bytes.Clone(b)
	return func(m *Message) bool { return bytes.Equal(m.Content, b) }
}

// MatchContentFunc matches messages whose content satisfies f.
func MatchContentFunc(f func([]byte) bool) Template {
	return func(m *Message) bool { return f(m.Content) }
}
