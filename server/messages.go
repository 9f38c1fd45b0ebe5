package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/acl/fipastring"
)

// readMessage decodes a message from the body — JSON in the acl
// package's shape or the simplified one (wire.go), or the FIPA string
// representation by Content-Type — and checks that the caller may send
// it. Messages from the API come from the runtime's host inbox unless
// they name the caller itself as sender: a client speaks as itself or as
// the server, never as an agent or another client. A scoped caller may
// address only its agents.
func (c *call) readMessage() (*acl.Message, error) {
	mt, err := messageMediaType(c.r)
	if err != nil {
		return nil, err
	}
	b, err := readBounded(c.r.Body, c.s.cfg.maxBody, "body")
	if err != nil {
		return nil, err
	}
	m, err := decodeMessage(mt, b, c.id.Subject)
	if err != nil {
		return nil, err
	}
	for _, to := range m.Receivers {
		if err := c.mayAccess(to); err != nil {
			return nil, err
		}
	}
	if len(m.Receivers) == 1 {
		c.agent = m.Receivers[0]
	}
	return m, nil
}

// decodeMessage is the API's message decoder: the form's codec, then the
// server's own rules. self is whom the caller may send as ("" for no one
// but the server).
func decodeMessage(mt string, b []byte, self string) (*acl.Message, error) {
	m, err := decodeMessageAs(mt, b)
	if err != nil {
		return nil, err
	}
	if m.Sender != "" && (self == "" || string(m.Sender) != self) {
		return nil, &acl.FieldError{Field: senderField(mt, b), Reason: fmt.Sprintf("%q is not yours to send as: leave it out (the server sends) or name yourself", truncate(string(m.Sender)))}
	}
	if len(m.Receivers) == 0 {
		return nil, &acl.FieldError{Field: "receiver", Reason: "at least one receiver is required"}
	}
	return m, nil
}

// senderField is the name the client gave the sender: "from" in the
// simplified form.
func senderField(mt string, b []byte) string {
	if mt == "application/json" && !bytes.Contains(b, []byte(`"sender"`)) && bytes.Contains(b, []byte(`"from"`)) {
		return "from"
	}
	return "sender"
}

// truncate shortens a client's value quoted back in an error.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func (s *Server) sendMessage(c *call) error {
	m, err := c.readMessage()
	if err != nil {
		return err
	}
	if err := s.rt.Send(c.r.Context(), m); err != nil {
		return err
	}
	writeJSON(c.w, http.StatusAccepted, SendResult{ID: m.ID.String()})
	return nil
}

func (s *Server) request(c *call) error {
	timeout := s.cfg.defTimeout
	if t := c.r.URL.Query().Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return fieldErr("timeout", "want a positive duration such as \"5s\", got %q", t)
		}
		if d > s.cfg.maxTimeout {
			return fieldErr("timeout", "at most %v, got %v", s.cfg.maxTimeout, d)
		}
		timeout = d
	}
	m, err := c.readMessage()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), timeout)
	defer cancel()
	reply, err := s.rt.Request(ctx, m)
	if err != nil {
		return err
	}
	ct, enc := "application/json", acl.Marshal
	if wantsFIPA(c.r) {
		ct, enc = FIPAContentType, fipastring.Marshal
	}
	b, err := enc(reply)
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", ct)
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(append(b, '\n'))
	return nil
}

func (s *Server) visibleDeadLetters(c *call) ([]caxton.DeadLetter, error) {
	all, err := s.rt.DeadLetters(c.r.Context())
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, dl := range all {
		if c.id.MayAccess(dl.Receiver) {
			out = append(out, dl)
		}
	}
	return out, nil
}

func (s *Server) listDeadLetters(c *call) error {
	dls, err := s.visibleDeadLetters(c)
	if err != nil {
		return err
	}
	out := make([]DeadLetterView, 0, len(dls))
	for _, dl := range dls {
		b, err := acl.Marshal(dl.Message)
		if err != nil {
			return err
		}
		out = append(out, DeadLetterView{ID: dl.ID, Receiver: string(dl.Receiver), Reason: dl.Reason,
			Attempts: dl.Attempts, LastError: dl.LastError, At: dl.At, Message: b})
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

// selectDeadLetters resolves a replay or purge body to ids the caller may
// act on.
func (s *Server) selectDeadLetters(c *call) ([]string, error) {
	var body DeadLetterIDs
	if err := decodeJSON(c.r.Body, &body); err != nil {
		return nil, err
	}
	switch {
	case body.All && len(body.IDs) > 0:
		return nil, fieldErr("all", "give ids or all, not both")
	case !body.All && len(body.IDs) == 0:
		return nil, fieldErr("ids", "name at least one dead letter (or set all)")
	}
	dls, err := s.visibleDeadLetters(c)
	if err != nil {
		return nil, err
	}
	if body.All {
		ids := make([]string, len(dls))
		for i, dl := range dls {
			ids[i] = dl.ID
		}
		return ids, nil
	}
	if c.id.Scoped() {
		mine := map[string]bool{}
		for _, dl := range dls {
			mine[dl.ID] = true
		}
		for _, id := range body.IDs {
			if !mine[id] {
				// Unknown and not yours look alike: ids say nothing.
				return nil, fmt.Errorf("%w: %q", caxton.ErrDeadLetterNotFound, id)
			}
		}
	}
	return body.IDs, nil
}

func (s *Server) replayDeadLetters(c *call) error {
	ids, err := s.selectDeadLetters(c)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		if err := s.rt.ReplayDeadLetters(c.r.Context(), ids...); err != nil {
			return err
		}
	}
	writeJSON(c.w, http.StatusOK, DeadLetterResult{Count: len(ids)})
	return nil
}

func (s *Server) purgeDeadLetters(c *call) error {
	ids, err := s.selectDeadLetters(c)
	if err != nil {
		return err
	}
	n := 0
	if len(ids) > 0 { // an empty id list would purge everything
		if n, err = s.rt.PurgeDeadLetters(c.r.Context(), ids...); err != nil {
			return err
		}
	}
	writeJSON(c.w, http.StatusOK, DeadLetterResult{Count: n})
	return nil
}
