package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

func logView(r caxton.LogRecord) LogView {
	v := LogView{Time: r.Time, Level: r.Level.String(), Agent: string(r.Agent), Message: r.Message}
	if len(r.Attrs) > 0 {
		v.Attrs = make(map[string]string, len(r.Attrs))
		for _, a := range r.Attrs {
			v.Attrs[a.Key] = a.Value.String()
		}
	}
	return v
}

func eventView(e caxton.Event) EventView {
	return EventView{Seq: e.Seq, Kind: e.Kind.String(), Agent: string(e.Agent), At: e.At, Replica: e.Replica,
		Version: e.Version, Detail: e.Detail, Missed: e.Missed}
}

// followPoll is how often a followed log is read for new records: the
// runtime keeps logs in a buffer with no notification.
const followPoll = 200 * time.Millisecond

// heartbeat keeps an idle event stream's connection from being cut by
// proxies.
const heartbeat = 15 * time.Second

// boolParam reads an optional true/false query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	default:
		return false, fieldErr(name, "want true or false, got %q", v)
	}
}

// sinceParam reads "since": an RFC 3339 time or a duration back from now
// on the runtime's clock ("1h").
func (s *Server) sinceParam(r *http.Request) (time.Time, error) {
	v := r.URL.Query().Get("since")
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return s.rt.Clock().Now().Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fieldErr("since", "want a duration back from now (\"1h\") or an RFC 3339 time, got %q", v)
	}
	return t, nil
}

func (s *Server) agentLogs(c *call) error {
	since, err := s.sinceParam(c.r)
	if err != nil {
		return err
	}
	follow, err := boolParam(c.r, "follow")
	if err != nil {
		return err
	}
	recs, err := s.rt.Logs(c.agent, since)
	if err != nil {
		return err
	}
	if !follow {
		out := make([]LogView, len(recs))
		for i, r := range recs {
			out[i] = logView(r)
		}
		writeJSON(c.w, http.StatusOK, out)
		return nil
	}
	sse := startSSE(c.w)
	// Records at the last time seen are counted, so that a poll that
	// reads from that time again skips the ones already sent.
	var last time.Time
	sentAtLast := 0
	emit := func(recs []caxton.LogRecord) error {
		skip := 0
		for _, r := range recs {
			if r.Time.Equal(last) && skip < sentAtLast {
				skip++
				continue
			}
			if err := sse.send("log", logView(r)); err != nil {
				return err
			}
			if r.Time.Equal(last) {
				sentAtLast++
			} else {
				last, sentAtLast = r.Time, 1
			}
		}
		sse.flush()
		return nil
	}
	if err := emit(recs); err != nil {
		return nil
	}
	if last.IsZero() {
		last = since
	}
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		select {
		case <-c.r.Context().Done():
			return nil
		case <-s.drained:
			return nil
		case <-tick.C:
			recs, err := s.rt.Logs(c.agent, last)
			if err != nil {
				_ = sse.send("error", problemFor(err, c.agent))
				sse.flush()
				return nil
			}
			if err := emit(recs); err != nil {
				return nil
			}
		}
	}
}

func (s *Server) events(c *call) error {
	agent := acl.AgentID(c.r.URL.Query().Get("agent"))
	if agent != "" {
		if err := c.mayAccess(agent); err != nil {
			return err
		}
	}
	ch := s.rt.Watch(c.r.Context(), 256)
	sse := startSSE(c.w)
	sse.comment("caxton events")
	sse.flush()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return nil
			}
			if (agent != "" && e.Agent != agent) || !c.id.MayAccess(e.Agent) {
				continue
			}
			if err := sse.send("event", eventView(e)); err != nil {
				return nil
			}
			sse.flush()
		case <-s.drained:
			return nil
		case <-beat.C:
			sse.comment("heartbeat")
			sse.flush()
		}
	}
}

// sseWriter writes Server-Sent Events.
type sseWriter struct {
	w http.ResponseWriter
}

func startSSE(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &sseWriter{w: w}
}

func (s *sseWriter) send(event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", event, b)
	return err
}

func (s *sseWriter) comment(text string) {
	_, _ = fmt.Fprintf(s.w, ": %s\n\n", strings.ReplaceAll(text, "\n", " "))
}

func (s *sseWriter) flush() {
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}
