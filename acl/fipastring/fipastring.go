// Package fipastring is the FIPA ACL string representation (SC00070I)
// of package acl's messages, the s-expression form JADE-era agents
// exchange, for gateways to such systems. It is a package of its own so
// that guests, which compile package acl, do not carry it.
package fipastring

import (
	"github.com/caxton-go/caxton/acl"

	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The FIPA ACL string representation (SC00070I), the s-expression form
// JADE-era agents exchange:
//
//	(request
//	  :sender (agent-identifier :name front-desk)
//	  :receiver (set (agent-identifier :name billing))
//	  :content "where is my refund?"
//	  :language json :conversation-id c-1 :reply-with r-1
//	  :reply-by 20261122T100000000Z
//	  :X-custom "value")
//
// Caxton's envelope fields travel as user-defined parameters:
// :X-caxton-id, :X-caxton-created-at, :X-caxton-priority and
// :X-caxton-trace-<key> (trace context). Agent identifiers' :addresses
// and :resolvers are accepted and not kept: Caxton routes by name.
// Content that is not printable UTF-8 is written as a byte-length-encoded
// string (#5"<5 bytes>"). Times have millisecond precision, in UTC.

// fipaMaxDepth bounds the nesting of expressions a decoder follows.
const fipaMaxDepth = 32

const caxtonParam = "X-caxton-"

// Marshal encodes m in the FIPA ACL string representation.
func Marshal(m *acl.Message) ([]byte, error) {
	if !m.Performative.Valid() {
		return nil, fieldErr("performative", "cannot encode invalid value %d", uint8(m.Performative))
	}
	var b bytes.Buffer
	b.WriteString("(" + m.Performative.String())
	word := func(name, v string) {
		if v != "" {
			b.WriteString("\n  :" + name + " ")
			writeFIPAString(&b, v, true)
		}
	}
	if m.Sender != "" {
		b.WriteString("\n  :sender ")
		writeAID(&b, m.Sender)
	}
	if len(m.Receivers) > 0 {
		b.WriteString("\n  :receiver (set")
		for _, r := range m.Receivers {
			b.WriteString(" ")
			writeAID(&b, r)
		}
		b.WriteString(")")
	}
	if m.ReplyTo != "" {
		b.WriteString("\n  :reply-to (set ")
		writeAID(&b, m.ReplyTo)
		b.WriteString(")")
	}
	if len(m.Content) > 0 {
		b.WriteString("\n  :content ")
		writeFIPAString(&b, string(m.Content), false)
	}
	word("language", m.Language)
	word("encoding", m.Encoding)
	word("ontology", m.Ontology)
	word("protocol", m.Protocol)
	word("conversation-id", m.ConversationID)
	word("reply-with", m.ReplyWith)
	word("in-reply-to", m.InReplyTo)
	if !m.ReplyBy.IsZero() {
		b.WriteString("\n  :reply-by " + fipaTime(m.ReplyBy))
	}
	if !m.ID.IsZero() {
		word(caxtonParam+"id", m.ID.String())
	}
	if !m.CreatedAt.IsZero() {
		b.WriteString("\n  :" + caxtonParam + "created-at " + fipaTime(m.CreatedAt))
	}
	if m.Priority != acl.PriorityNormal {
		if !m.Priority.Valid() {
			return nil, fieldErr("priority", "cannot encode invalid value %d", int8(m.Priority))
		}
		word(caxtonParam+"priority", m.Priority.String())
	}
	for _, k := range slices.Sorted(maps.Keys(m.TraceContext)) {
		if !isFIPAWord(k) {
			return nil, fieldErr("trace_context", "key %q cannot be a parameter name", k)
		}
		b.WriteString("\n  :" + caxtonParam + "trace-" + k + " ")
		writeFIPAString(&b, m.TraceContext[k], false)
	}
	for _, k := range slices.Sorted(maps.Keys(m.Params)) {
		if !strings.HasPrefix(strings.ToUpper(k), "X-") || !isFIPAWord(k) || strings.HasPrefix(k, caxtonParam) {
			return nil, fieldErr(k, "a user-defined parameter must be an X- word not starting with %s", caxtonParam)
		}
		b.WriteString("\n  :" + k + " ")
		writeFIPAString(&b, m.Params[k], false)
	}
	b.WriteString(")")
	return b.Bytes(), nil
}

func writeAID(b *bytes.Buffer, id acl.AgentID) {
	b.WriteString("(agent-identifier :name ")
	writeFIPAString(b, string(id), true)
	b.WriteString(")")
}

// writeFIPAString writes s as a word when allowed and possible, as a
// string literal when it is printable UTF-8, else byte-length-encoded.
func writeFIPAString(b *bytes.Buffer, s string, wordOK bool) {
	switch {
	case s == "":
		b.WriteString(`""`)
	case wordOK && isFIPAWord(s):
		b.WriteString(s)
	case utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }):
		b.WriteByte('"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte('"')
	default:
		b.WriteString("#" + strconv.Itoa(len(s)) + "\"" + s)
	}
}

// isFIPAWord reports whether s is a FIPA Word: no white space, control
// characters, parentheses or quotes, and not starting with #, a digit,
// '-', '@' or ':'.
func isFIPAWord(s string) bool {
	if s == "" || strings.ContainsAny(s[:1], "#0123456789-@:") {
		return false
	}
	for _, r := range s {
		if r <= 0x20 || r == 0x7f || r == '(' || r == ')' || r == '"' || r == '\\' {
			return false
		}
	}
	return true
}

func fipaTime(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%04d%02d%02dT%02d%02d%02d%03dZ", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e6)
}

func parseFIPATime(field, s string) (time.Time, error) {
	s = strings.TrimPrefix(s, "+")
	s = strings.TrimSuffix(s, "Z")
	if len(s) != 18 || s[8] != 'T' || strings.ContainsFunc(s[:8]+s[9:], func(r rune) bool { return r < '0' || r > '9' }) {
		return time.Time{}, fieldErr(field, "want a FIPA date-time such as 20261122T100000000Z, got %q", s)
	}
	n := func(a, b int) int { v, _ := strconv.Atoi(s[a:b]); return v }
	t := time.Date(n(0, 4), time.Month(n(4, 6)), n(6, 8), n(9, 11), n(11, 13), n(13, 15), n(15, 18)*1e6, time.UTC)
	if fipaTime(t) != s+"Z" {
		return time.Time{}, fieldErr(field, "not a valid date-time: %q", s)
	}
	return t, nil
}

// sexpr is a parsed expression: a list, or an atom (word or string).
type sexpr struct {
	list   []sexpr
	isList bool
	atom   string
	quoted bool // a string, not a word
}

type fipaParser struct {
	in  []byte
	pos int
}

func (p *fipaParser) skipSpace() {
	for p.pos < len(p.in) && (p.in[p.pos] == ' ' || p.in[p.pos] == '\t' || p.in[p.pos] == '\n' || p.in[p.pos] == '\r' || p.in[p.pos] == '\f') {
		p.pos++
	}
}

func (p *fipaParser) errf(format string, args ...any) error {
	return fieldErr("message", "at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *fipaParser) expr(depth int) (sexpr, error) {
	p.skipSpace()
	if p.pos >= len(p.in) {
		return sexpr{}, p.errf("unexpected end")
	}
	switch c := p.in[p.pos]; {
	case c == '(':
		if depth >= fipaMaxDepth {
			return sexpr{}, p.errf("nested deeper than %d", fipaMaxDepth)
		}
		p.pos++
		e := sexpr{isList: true}
		for {
			p.skipSpace()
			if p.pos >= len(p.in) {
				return sexpr{}, p.errf("missing )")
			}
			if p.in[p.pos] == ')' {
				p.pos++
				return e, nil
			}
			sub, err := p.expr(depth + 1)
			if err != nil {
				return sexpr{}, err
			}
			e.list = append(e.list, sub)
		}
	case c == ')':
		return sexpr{}, p.errf("unexpected )")
	case c == '"':
		p.pos++
		var b strings.Builder
		for {
			if p.pos >= len(p.in) {
				return sexpr{}, p.errf("unterminated string")
			}
			c := p.in[p.pos]
			p.pos++
			if c == '"' {
				return sexpr{atom: b.String(), quoted: true}, nil
			}
			if c == '\\' && p.pos < len(p.in) {
				c = p.in[p.pos]
				p.pos++
			}
			b.WriteByte(c)
		}
	case c == '#':
		start := p.pos + 1
		p.pos++
		for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
			p.pos++
		}
		n, err := strconv.Atoi(string(p.in[start:p.pos]))
		if err != nil || p.pos >= len(p.in) || p.in[p.pos] != '"' || n > len(p.in)-p.pos-1 {
			return sexpr{}, p.errf("bad byte-length-encoded string")
		}
		p.pos++
		s := string(p.in[p.pos : p.pos+n])
		p.pos += n
		return sexpr{atom: s, quoted: true}, nil
	default:
		start := p.pos
		for p.pos < len(p.in) && p.in[p.pos] > 0x20 && p.in[p.pos] != '(' && p.in[p.pos] != ')' && p.in[p.pos] != '"' {
			p.pos++
		}
		if p.pos == start {
			return sexpr{}, p.errf("unexpected character %q", c)
		}
		return sexpr{atom: string(p.in[start:p.pos])}, nil
	}
}

// Unmarshal decodes one message in the FIPA ACL string
// representation, strictly: an unknown performative or parameter (other
// than a user-defined X- one), a parameter given twice, a malformed agent
// identifier, time or string, and trailing data are errors naming the
// field. Like acl.Unmarshal it checks syntax only; call Validate before
// sending.
func Unmarshal(data []byte) (*acl.Message, error) {
	p := &fipaParser{in: data}
	e, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.skipSpace(); p.pos != len(data) {
		return nil, p.errf("trailing data after the message")
	}
	if !e.isList || len(e.list) == 0 || e.list[0].isList {
		return nil, fieldErr("message", "want (performative :parameter value ...)")
	}
	perf, err := acl.ParsePerformative(e.list[0].atom)
	if err != nil || e.list[0].quoted {
		return nil, fieldErr("performative", "unknown performative %q", e.list[0].atom)
	}
	m := &acl.Message{Performative: perf}
	seen := map[string]bool{}
	rest := e.list[1:]
	for len(rest) > 0 {
		key := rest[0]
		if key.isList || key.quoted || !strings.HasPrefix(key.atom, ":") || len(rest) < 2 {
			return nil, fieldErr("message", "want :parameter value pairs after the performative")
		}
		name, v := key.atom[1:], rest[1]
		rest = rest[2:]
		if seen[strings.ToLower(name)] {
			return nil, fieldErr(name, "given twice")
		}
		seen[strings.ToLower(name)] = true
		if err := setFIPAParam(m, name, v); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func atomOf(field string, v sexpr) (string, error) {
	if v.isList {
		return "", fieldErr(field, "want a word or a string, not an expression")
	}
	return v.atom, nil
}

func setFIPAParam(m *acl.Message, name string, v sexpr) error {
	var err error
	text := func(dst *string) error {
		*dst, err = atomOf(name, v)
		return err
	}
	switch lower := strings.ToLower(name); lower {
	case "sender":
		m.Sender, err = parseAID(name, v)
		return err
	case "receiver", "reply-to":
		if !v.isList || len(v.list) == 0 || v.list[0].atom != "set" {
			return fieldErr(name, "want (set (agent-identifier :name ...) ...)")
		}
		var ids []acl.AgentID
		for _, a := range v.list[1:] {
			id, err := parseAID(name, a)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if lower == "receiver" {
			m.Receivers = ids
			return nil
		}
		if len(ids) != 1 {
			return fieldErr(name, "Caxton keeps one reply-to agent, got %d", len(ids))
		}
		m.ReplyTo = ids[0]
		return nil
	case "content":
		s, err := atomOf(name, v)
		if s != "" { // empty content is no content, as in the JSON codec
			m.Content = []byte(s)
		}
		return err
	case "language":
		return text(&m.Language)
	case "encoding":
		return text(&m.Encoding)
	case "ontology":
		return text(&m.Ontology)
	case "protocol":
		return text(&m.Protocol)
	case "conversation-id":
		return text(&m.ConversationID)
	case "reply-with":
		return text(&m.ReplyWith)
	case "in-reply-to":
		return text(&m.InReplyTo)
	case "reply-by":
		s, err := atomOf(name, v)
		if err != nil {
			return err
		}
		m.ReplyBy, err = parseFIPATime(name, s)
		return err
	}
	s, err := atomOf(name, v)
	if err != nil {
		return err
	}
	switch {
	case strings.EqualFold(name, caxtonParam+"id"):
		m.ID, err = acl.ParseMessageID(s)
		if err != nil {
			return fieldErr(name, "not a message id: %q", s)
		}
	case strings.EqualFold(name, caxtonParam+"created-at"):
		m.CreatedAt, err = parseFIPATime(name, s)
		return err
	case strings.EqualFold(name, caxtonParam+"priority"):
		m.Priority, err = acl.ParsePriority(s)
		if err != nil {
			return fieldErr(name, "want low, normal or high, got %q", s)
		}
	case len(name) > len(caxtonParam+"trace-") && strings.EqualFold(name[:len(caxtonParam+"trace-")], caxtonParam+"trace-"):
		if m.TraceContext == nil {
			m.TraceContext = map[string]string{}
		}
		m.TraceContext[name[len(caxtonParam+"trace-"):]] = s
	case strings.HasPrefix(strings.ToUpper(name), "X-") && !strings.EqualFold(name[:min(len(name), len(caxtonParam))], caxtonParam):
		if m.Params == nil {
			m.Params = map[string]string{}
		}
		m.Params[name] = s
	default:
		return fieldErr(name, "unknown parameter")
	}
	return nil
}

// parseAID reads (agent-identifier :name N [:addresses ...] [:resolvers ...] [:X-... v]).
func parseAID(field string, v sexpr) (acl.AgentID, error) {
	if !v.isList || len(v.list) == 0 || v.list[0].atom != "agent-identifier" {
		return "", fieldErr(field, "want (agent-identifier :name ...)")
	}
	var name string
	rest := v.list[1:]
	for len(rest) >= 2 {
		k := rest[0].atom
		switch {
		case k == ":name":
			if rest[1].isList || rest[1].atom == "" {
				return "", fieldErr(field, "agent-identifier :name must be a word or string")
			}
			name = rest[1].atom
		case k == ":addresses" || k == ":resolvers" || strings.HasPrefix(strings.ToUpper(k), ":X-"):
		default:
			return "", fieldErr(field, "agent-identifier: unknown parameter %q", k)
		}
		rest = rest[2:]
	}
	if len(rest) != 0 || name == "" {
		return "", fieldErr(field, "agent-identifier needs :name and parameter/value pairs")
	}
	return acl.AgentID(name), nil
}

func fieldErr(field, format string, args ...any) error {
	return &acl.FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
