package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/acl/fipastring"
)

// FIPAContentType is the media type of a message in the FIPA ACL string
// representation (package acl/fipastring): send it as the Content-Type
// of POST /v1/messages or /v1/requests, or ask for a reply in it with
// Accept, so that a JADE-era system talks to agents in its own form.
const FIPAContentType = "text/fipa-acl"

// The JSON message forms the gateways accept. Besides the acl package's
// strict shape they take the shapes the architecture documents write
// messages in, as written:
//
//   - content as any JSON value: an object, array, number or boolean is
//     kept as its JSON text, with language "json" unless one is given;
//   - the simplified form: "type" for performative, "from" for sender,
//     "to" for receiver (a string or an array).
//
// For example, both of these are the same request:
//
//	{"type": "request", "to": "weather", "content": {"city": "Oslo"}}
//	{"performative": "request", "receiver": ["weather"], "content": "{\"city\":\"Oslo\"}", "language": "json"}
//
// A field and its alias together ("type" and "performative") are refused,
// and errors name the field as the client wrote it.
var messageAliases = map[string]string{"type": "performative", "from": "sender", "to": "receiver"}

// decodeMessageJSON decodes a message in any of the JSON forms above. It
// rewrites the simplified form into the strict one and lets acl.Unmarshal
// do every check, so both forms are held to the same rules.
func decodeMessageJSON(b []byte) (*acl.Message, error) {
	rewritten, renamed, err := normalizeMessageJSON(b)
	if err != nil {
		return nil, err
	}
	if rewritten != nil {
		b = rewritten
	}
	m, err := acl.Unmarshal(b)
	if err != nil {
		var fe *acl.FieldError
		if errors.As(err, &fe) {
			if alias, ok := renamed[fe.Field]; ok {
				return nil, &acl.FieldError{Field: alias, Reason: fe.Reason}
			}
		}
		return nil, err
	}
	return m, nil
}

// normalizeMessageJSON returns b rewritten into the strict shape, or nil
// when b needs no rewriting (the common case costs no re-encoding), and
// the aliases used (canonical name → the client's).
func normalizeMessageJSON(b []byte) ([]byte, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, &acl.FieldError{Field: "message", Reason: "malformed JSON: " + err.Error()}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, &acl.FieldError{Field: "message", Reason: "expected a JSON object"}
	}
	type member struct {
		key string
		raw json.RawMessage
	}
	var members []member
	var renamed map[string]string
	present := map[string]string{} // canonical name → the name written
	rewrite, hasLanguage, jsonContent := false, false, false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, &acl.FieldError{Field: "message", Reason: "malformed JSON: " + err.Error()}
		}
		key := tok.(string) // inside an object the decoder yields string keys
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, &acl.FieldError{Field: "message", Reason: "malformed JSON: " + err.Error()}
		}
		canonical := key
		if c, ok := messageAliases[key]; ok {
			canonical, rewrite = c, true
			if renamed == nil {
				renamed = map[string]string{}
			}
			renamed[c] = key
		}
		if prev, dup := present[canonical]; dup {
			if prev == key {
				return nil, nil, &acl.FieldError{Field: key, Reason: "appears twice"}
			}
			return nil, nil, &acl.FieldError{Field: key, Reason: "given together with " + prev + " (they are the same field)"}
		}
		present[canonical] = key
		if canonical == "language" {
			hasLanguage = true
		}
		if canonical == "content" {
			if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] != '"' && !bytes.Equal(t, []byte("null")) {
				var compact bytes.Buffer
				if err := json.Compact(&compact, t); err != nil {
					return nil, nil, &acl.FieldError{Field: key, Reason: "malformed JSON: " + err.Error()}
				}
				s, _ := json.Marshal(compact.String())
				raw, rewrite, jsonContent = s, true, true
			}
		}
		members = append(members, member{canonical, raw})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, &acl.FieldError{Field: "message", Reason: "malformed JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err == nil {
		return nil, nil, &acl.FieldError{Field: "message", Reason: "trailing data after the JSON object"}
	}
	if !rewrite {
		return nil, nil, nil
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for i, mb := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(mb.key)
		out.Write(k)
		out.WriteByte(':')
		out.Write(mb.raw)
	}
	if jsonContent && !hasLanguage {
		out.WriteString(`,"language":"json"`)
	}
	out.WriteByte('}')
	return out.Bytes(), renamed, nil
}

// messageMediaType is the form of a request body: JSON (the default, also
// for no Content-Type) or the FIPA string representation.
func messageMediaType(r *http.Request) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "application/json", nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", &FieldError{Field: "Content-Type", Reason: "malformed: " + err.Error()}
	}
	switch mt {
	case "application/json", FIPAContentType:
		return mt, nil
	}
	return "", &FieldError{Field: "Content-Type", Reason: "want application/json or " + FIPAContentType + ", got " + mt, Err: ErrUnsupportedMediaType}
}

// wantsFIPA reports whether the client asked for replies in the FIPA
// string representation (Accept: text/fipa-acl).
func wantsFIPA(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == FIPAContentType {
			return true
		}
	}
	return false
}

// decodeMessageAs decodes a message body in media type mt.
func decodeMessageAs(mt string, b []byte) (*acl.Message, error) {
	if mt == FIPAContentType {
		return fipastring.Unmarshal(b)
	}
	return decodeMessageJSON(b)
}
