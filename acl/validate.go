package acl

import (
	"slices"
	"strings"
	"time"
)

// DefaultMaxContentSize is the content limit Validate applies when a
// Validator does not set one: 1 MiB.
const DefaultMaxContentSize = 1 << 20

// MaxReceivers is the most receivers one message may list; a broadcast to
// more should use a topic.
const MaxReceivers = 1024

// maxTokenLen bounds free-form string parameters (conversation id, protocol,
// ...) so a hostile sender cannot make every log line or map key huge.
const maxTokenLen = 256

// Validator checks messages against limits. The zero value applies
// DefaultMaxContentSize and the wall clock.
type Validator struct {
	// MaxContentSize is the largest content accepted, in bytes; 0 means
	// DefaultMaxContentSize and a negative value means no limit.
	MaxContentSize int
	// Now tells the time for the reply-by check; nil means time.Now. A
	// runtime passes its (possibly fake) clock here.
	Now func() time.Time
	// SkipReceiverNames leaves the syntax of receiver names unchecked
	// (duplicates are still refused). A router sets it when it resolves
	// every receiver against names it validated at registration, and checks
	// only the names it cannot resolve — saving a scan of every name on
	// every send.
	SkipReceiverNames bool
}

// Validate checks m with the zero Validator.
func (m *Message) Validate() error { return Validator{}.Validate(m) }

// Validate returns nil if m is fit to send, or a *FieldError (wrapping
// ErrInvalid) naming the first bad field: a missing or unknown performative,
// no receiver, a malformed or duplicate receiver, oversized content, a
// reply-by already past, a malformed conversation id, reply-with or other
// parameter. (The message id is a typed MessageID and cannot be malformed;
// its text form is checked when decoded.)
func (v Validator) Validate(m *Message) error {
	if m == nil {
		return fieldErr("message", "nil")
	}
	if m.Performative == 0 {
		return fieldErr("performative", "missing")
	}
	if !m.Performative.Valid() {
		return fieldErr("performative", "invalid value %d", uint8(m.Performative))
	}
	if m.Sender != "" {
		if err := validateName("sender", string(m.Sender)); err != nil {
			return err
		}
		if m.Sender.IsTopic() {
			return fieldErr("sender", "%q is a topic, not an agent", m.Sender)
		}
	}
	if len(m.Receivers) == 0 {
		return fieldErr("receiver", "no receiver")
	}
	if len(m.Receivers) > MaxReceivers {
		return fieldErr("receiver", "%d receivers, the limit is %d (use a topic for broadcasts)", len(m.Receivers), MaxReceivers)
	}
	var seen map[AgentID]struct{} // only for long lists: the scan below is quadratic
	if len(m.Receivers) > 16 {
		seen = make(map[AgentID]struct{}, len(m.Receivers))
	}
	for i, r := range m.Receivers {
		if !v.SkipReceiverNames {
			if err := validateName("receiver", string(r)); err != nil {
				return err
			}
		}
		dup := false
		if seen != nil {
			_, dup = seen[r]
			seen[r] = struct{}{}
		} else {
			dup = slices.Contains(m.Receivers[:i], r)
		}
		if dup {
			return fieldErr("receiver", "duplicate receiver %q", r)
		}
	}
	if m.ReplyTo != "" {
		if err := validateName("reply_to", string(m.ReplyTo)); err != nil {
			return err
		}
	}
	limit := v.MaxContentSize
	if limit == 0 {
		limit = DefaultMaxContentSize
	}
	if limit > 0 && len(m.Content) > limit {
		return fieldErr("content", "%d bytes, the limit is %d", len(m.Content), limit)
	}
	if err := validateTokens(m); err != nil {
		return err
	}
	if !m.ReplyBy.IsZero() {
		now := time.Now
		if v.Now != nil {
			now = v.Now
		}
		if t := now(); !m.ReplyBy.After(t) {
			return fieldErr("reply_by", "%s is not after now (%s)", m.ReplyBy.Format(time.RFC3339Nano), t.Format(time.RFC3339Nano))
		}
	}
	if !m.Priority.Valid() {
		return fieldErr("priority", "invalid value %d", m.Priority)
	}
	if len(m.Params) > 0 || len(m.TraceContext) > 0 {
		return validateMaps(m)
	}
	return nil
}

// validateMaps checks the user parameters and the trace context; most
// messages have neither, and ranging over an empty map still costs an
// iterator set-up, so Validate calls this only when there is something.
func validateMaps(m *Message) error {
	for k, val := range m.Params {
		if err := validateParamKey(k); err != nil {
			return err
		}
		if len(val) > DefaultMaxContentSize {
			return fieldErr("params", "value of %q is %d bytes long", k, len(val))
		}
	}
	for k, val := range m.TraceContext {
		if k == "" || len(k) > maxTokenLen || len(val) > 4*maxTokenLen {
			return fieldErr("trace_context", "entry %q is empty or too long", truncate(k))
		}
	}
	return nil
}

// validateTokens checks the free-form parameters in a fixed order (the
// first bad one is named). Empty ones, the common case, cost a length test.
func validateTokens(m *Message) error {
	if len(m.Language)|len(m.Encoding)|len(m.Ontology)|len(m.Protocol)|len(m.ConversationID)|len(m.ReplyWith)|len(m.InReplyTo) == 0 {
		return nil
	}
	for _, f := range [...]struct{ name, val string }{
		{"language", m.Language}, {"encoding", m.Encoding}, {"ontology", m.Ontology},
		{"protocol", m.Protocol}, {"conversation_id", m.ConversationID},
		{"reply_with", m.ReplyWith}, {"in_reply_to", m.InReplyTo},
	} {
		if f.val == "" {
			continue
		}
		if err := validateToken(f.name, f.val); err != nil {
			return err
		}
	}
	return nil
}

// validateToken checks a free-form parameter: bounded length, no control
// characters (they would corrupt logs and line-based encodings).
func validateToken(field, s string) error {
	if len(s) > maxTokenLen {
		return fieldErr(field, "%d bytes long, the limit is %d", len(s), maxTokenLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return fieldErr(field, "control character 0x%02x at byte %d", s[i], i)
		}
	}
	return nil
}

func validateParamKey(k string) error {
	if len(k) < 3 || !strings.EqualFold(k[:2], "X-") {
		return fieldErr("params", "user-defined parameter %q must start with \"X-\" and have a name", truncate(k))
	}
	return validateName("params", k)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
