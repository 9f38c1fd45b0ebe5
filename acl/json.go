package acl

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The JSON wire shape, field by field (every field but performative may be
// absent; absent and null mean the zero value):
//
//	{
//	  "id":              "0193...-...",          message id (UUID)
//	  "performative":    "request",              FIPA name, any case
//	  "sender":          "front-desk",
//	  "receiver":        ["billing", "sales"],   also accepted: a single string
//	  "reply_to":        "front-desk",
//	  "content":         "text",                 when the content is valid UTF-8
//	  "content_base64":  "AAEC",                 otherwise (standard, padded)
//	  "language":        "json",
//	  "encoding":        "utf-8",
//	  "ontology":        "billing",
//	  "protocol":        "fipa-request",
//	  "conversation_id": "c-1",
//	  "reply_with":      "r-1",
//	  "in_reply_to":     "r-0",
//	  "reply_by":        "2026-11-22T10:00:00Z", RFC 3339
//	  "created_at":      "2026-11-22T09:59:00Z", RFC 3339
//	  "priority":        "high",                 low | normal | high
//	  "trace_context":   {"traceparent": "00-..."},
//	  "X-Custom":        "value"                 user-defined parameters, top level
//	}

// MarshalJSON implements json.Marshaler with the wire shape above. Output is
// deterministic (user-defined parameters sorted by key). It has a value
// receiver so that a Message held by value in another struct is encoded the
// same way as a *Message.
func (m Message) MarshalJSON() ([]byte, error) {
	if !m.Performative.Valid() {
		return nil, fieldErr("performative", "cannot encode invalid value %d", uint8(m.Performative))
	}
	w := wireMessage{
		Performative: performativeNames[m.Performative], Sender: string(m.Sender),
		ReplyTo: string(m.ReplyTo), Language: m.Language, Encoding: m.Encoding,
		Ontology: m.Ontology, Protocol: m.Protocol, ConversationID: m.ConversationID,
		ReplyWith: m.ReplyWith, InReplyTo: m.InReplyTo, TraceContext: m.TraceContext,
	}
	if !m.ID.IsZero() {
		w.ID = m.ID.String()
	}
	if m.Receivers != nil {
		w.Receiver = make([]string, len(m.Receivers))
		for i, r := range m.Receivers {
			w.Receiver[i] = string(r)
		}
	}
	if len(m.Content) > 0 {
		if utf8.Valid(m.Content) {
			s := string(m.Content)
			w.Content = &s
		} else {
			w.ContentBase64 = base64.StdEncoding.EncodeToString(m.Content)
		}
	}
	var err error
	if w.ReplyBy, err = encodeTime("reply_by", m.ReplyBy); err != nil {
		return nil, err
	}
	if w.CreatedAt, err = encodeTime("created_at", m.CreatedAt); err != nil {
		return nil, err
	}
	if m.Priority != PriorityNormal {
		if !m.Priority.Valid() {
			return nil, fieldErr("priority", "cannot encode invalid value %d", m.Priority)
		}
		w.Priority = m.Priority.String()
	}
	out, err := json.Marshal(&w)
	if err != nil || len(m.Params) == 0 {
		return out, err
	}
	keys := make([]string, 0, len(m.Params))
	for k := range m.Params {
		if err := validateParamKey(k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf := bytes.NewBuffer(out[:len(out)-1]) // drop the closing brace
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(m.Params[k])
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

type wireMessage struct {
	ID             string            `json:"id,omitempty"`
	Performative   string            `json:"performative"`
	Sender         string            `json:"sender,omitempty"`
	Receiver       []string          `json:"receiver,omitempty"`
	ReplyTo        string            `json:"reply_to,omitempty"`
	Content        *string           `json:"content,omitempty"`
	ContentBase64  string            `json:"content_base64,omitempty"`
	Language       string            `json:"language,omitempty"`
	Encoding       string            `json:"encoding,omitempty"`
	Ontology       string            `json:"ontology,omitempty"`
	Protocol       string            `json:"protocol,omitempty"`
	ConversationID string            `json:"conversation_id,omitempty"`
	ReplyWith      string            `json:"reply_with,omitempty"`
	InReplyTo      string            `json:"in_reply_to,omitempty"`
	ReplyBy        string            `json:"reply_by,omitempty"`
	CreatedAt      string            `json:"created_at,omitempty"`
	Priority       string            `json:"priority,omitempty"`
	TraceContext   map[string]string `json:"trace_context,omitempty"`
}

// Marshal encodes m in the JSON wire shape.
func Marshal(m *Message) ([]byte, error) {
	if m == nil {
		return nil, fieldErr("message", "nil")
	}
	return m.MarshalJSON()
}

// Unmarshal decodes one message from the JSON wire shape, strictly: unknown
// or duplicate fields, wrong types, unknown performatives, malformed times or
// base64, both content forms at once, and trailing data are errors naming
// the field. It checks syntax only; call Validate before sending.
func Unmarshal(data []byte) (*Message, error) {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil, fieldErr("message", "expected a JSON object, got null")
	}
	m := new(Message)
	if err := m.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return m, nil
}

// UnmarshalJSON implements json.Unmarshaler; see Unmarshal. A JSON null
// leaves m unchanged, as encoding/json expects.
func (m *Message) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return syntaxErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fieldErr("message", "expected a JSON object")
	}
	*m = Message{}
	seen := make(map[string]bool, 8)
	var content, content64 *string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxErr(err)
		}
		key := tok.(string) // inside an object, the decoder yields string keys
		if key == "" {
			return fieldErr("(empty name)", "a field has an empty name")
		}
		if seen[key] {
			return fieldErr(key, "appears twice")
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntaxErr(err)
		}
		if bytes.Equal(raw, []byte("null")) {
			continue
		}
		if err := m.decodeField(key, raw, &content, &content64); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return syntaxErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fieldErr("message", "trailing data after the JSON object")
	}
	if m.Performative == 0 {
		return fieldErr("performative", "missing")
	}
	switch {
	case content != nil && content64 != nil:
		return fieldErr("content", "both content and content_base64 are set")
	case content != nil && *content != "":
		m.Content = []byte(*content)
	case content64 != nil && *content64 != "":
		b, err := base64.StdEncoding.DecodeString(*content64)
		if err != nil {
			return fieldErr("content_base64", "%v", err)
		}
		m.Content = b
	}
	return nil
}

func (m *Message) decodeField(key string, raw json.RawMessage, content, content64 **string) error {
	str := func(dst *string) error {
		if err := json.Unmarshal(raw, dst); err != nil {
			return fieldErr(key, "want a string: %v", typeErr(err))
		}
		return nil
	}
	var s string
	switch key {
	case "id":
		if err := str(&s); err != nil {
			return err
		}
		id, err := ParseMessageID(s)
		m.ID = id
		return err
	case "performative":
		if err := str(&s); err != nil {
			return err
		}
		p, err := ParsePerformative(s)
		m.Performative = p
		return err
	case "sender":
		err := str(&s)
		m.Sender = AgentID(s)
		return err
	case "reply_to":
		err := str(&s)
		m.ReplyTo = AgentID(s)
		return err
	case "receiver":
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			if err := json.Unmarshal(raw, &s); err != nil {
				return fieldErr(key, "want a string or an array of strings")
			}
			list = []string{s}
		}
		m.Receivers = make([]AgentID, len(list))
		for i, r := range list {
			m.Receivers[i] = AgentID(r)
		}
		return nil
	case "content":
		*content = new(string)
		return str(*content)
	case "content_base64":
		*content64 = new(string)
		return str(*content64)
	case "language":
		return str(&m.Language)
	case "encoding":
		return str(&m.Encoding)
	case "ontology":
		return str(&m.Ontology)
	case "protocol":
		return str(&m.Protocol)
	case "conversation_id":
		return str(&m.ConversationID)
	case "reply_with":
		return str(&m.ReplyWith)
	case "in_reply_to":
		return str(&m.InReplyTo)
	case "reply_by", "created_at":
		if err := str(&s); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fieldErr(key, "want an RFC 3339 time, got %q", truncate(s))
		}
		if y := t.UTC().Year(); y < 1 || y > 9999 {
			return fieldErr(key, "%q is outside the years 0001-9999 in UTC", truncate(s))
		}
		if key == "reply_by" {
			m.ReplyBy = t.UTC()
		} else {
			m.CreatedAt = t.UTC()
		}
		return nil
	case "priority":
		if err := str(&s); err != nil {
			return err
		}
		p, err := ParsePriority(s)
		m.Priority = p
		return err
	case "trace_context":
		if err := json.Unmarshal(raw, &m.TraceContext); err != nil {
			return fieldErr(key, "want an object of strings: %v", typeErr(err))
		}
		return nil
	}
	if len(key) > 2 && strings.EqualFold(key[:2], "X-") {
		if err := str(&s); err != nil {
			return err
		}
		return m.SetParam(key, s)
	}
	return fieldErr(key, "unknown field")
}

// encodeTime formats t as RFC 3339 in UTC ("" for the zero time). Years
// outside 0001-9999 have no RFC 3339 form, so they are an error rather than
// text that would not decode.
func encodeTime(field string, t time.Time) (string, error) {
	if t.IsZero() {
		return "", nil
	}
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return "", fieldErr(field, "year %d cannot be encoded (RFC 3339 allows 0001-9999)", y)
	}
	return t.Format(time.RFC3339Nano), nil
}

func syntaxErr(err error) error { return fieldErr("message", "malformed JSON: %v", err) }

// typeErr shortens encoding/json's type errors, which name Go types.
func typeErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("got JSON %s", te.Value)
	}
	return err.Error()
}
