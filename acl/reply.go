package acl

// CreateReply returns a reply to m with performative p, following JADE's
// createReply: it is addressed to m's ReplyTo if set, else to m's Sender; it
// copies the conversation id, protocol, language, encoding and ontology; its
// InReplyTo is m's ReplyWith; and it gets a fresh ReplyWith of its own. The
// sender is left empty: the runtime stamps it when the reply is sent.
func (m *Message) CreateReply(p Performative) *Message {
	return m.CreateReplyWith(p, NewID().String())
}

// CreateReplyWith is CreateReply with the reply's own ReplyWith given by the
// caller (for example from an IDGenerator, which is cheaper than NewID).
func (m *Message) CreateReplyWith(p Performative, replyWith string) *Message {
	to := m.ReplyTo
	if to == "" {
		to = m.Sender
	}
	r := &Message{
		Performative:   p,
		ConversationID: m.ConversationID,
		Protocol:       m.Protocol,
		Language:       m.Language,
		Encoding:       m.Encoding,
		Ontology:       m.Ontology,
		InReplyTo:      m.ReplyWith,
		ReplyWith:      replyWith,
	}
	if to != "" {
		r.Receivers = []AgentID{to}
	}
	return r
}
