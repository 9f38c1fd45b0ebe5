package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// parseDuration parses a duration field ("30s", "1m30s"); empty is zero.
func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fieldErr(field, "want a non-negative duration such as \"30s\", got %q", s)
	}
	return d, nil
}

// decodeJSON decodes one JSON value from r into v strictly: unknown
// fields, wrong types, trailing data and a body over its limit are errors
// naming the field.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonErr(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil && isTooLarge(err) {
			return jsonErr(err)
		}
		return fieldErr("body", "trailing data after the JSON value")
	}
	return nil
}

// decodeJSONBytes is decodeJSON over a byte slice (a multipart part).
func decodeJSONBytes(b []byte, v any) error { return decodeJSON(bytes.NewReader(b), v) }

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// jsonErr turns a decoding error into a *FieldError naming the field.
func jsonErr(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case isTooLarge(err):
		return &FieldError{Field: "body", Reason: "over the size limit", Err: ErrTooLarge}
	case errors.Is(err, io.EOF):
		return fieldErr("body", "empty; want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fieldErr("body", "truncated JSON")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return fieldErr(field, "want %s, got JSON %s", te.Type, te.Value)
	case errors.As(err, &se):
		return fieldErr("body", "malformed JSON at byte %d: %v", se.Offset, se)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		if name := strings.Trim(f, `"`); name != "" {
			return fieldErr(name, "unknown field")
		}
		return fieldErr("body", "unknown field %s", f)
	}
	return fieldErr("body", "%s", strings.TrimPrefix(msg, "json: "))
}
