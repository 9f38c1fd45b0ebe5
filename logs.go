package caxton

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// LogRecord is one log line about an agent: its handler's (MessageContext
// logger), its wasm guest's (the caxton.log import and captured
// stdout/stderr), and the runtime's own about it (failures, retries,
// replacements, dead letters).
type LogRecord struct {
	Time    time.Time   // by the runtime's clock
	Level   slog.Level  //
	Agent   acl.AgentID //
	Message string      //
	Attrs   []slog.Attr // the record's other attributes (groups as "group.key")
}

// Defaults of WithLogBuffer.
const (
	DefaultLogBuffer = 256
	DefaultLogLevel  = slog.LevelInfo
)

// WithLogBuffer keeps the last n log records of each agent, at level and
// above, for Runtime.Logs — what `caxton logs --agent X --since 1h` shows —
// whatever the runtime's logger (WithLogger) does with them (default 256
// records at Info; n = 0 keeps none). A record is kept once, in memory; an
// agent's records go when the agent is removed.
func WithLogBuffer(n int, level slog.Level) Option {
	return func(cfg *config) error {
		if n < 0 {
			return specErr("WithLogBuffer", "%d records is negative", n)
		}
		cfg.logBuffer, cfg.logLevel = n, level
		return nil
	}
}

// Logs returns agent name's buffered log records at or after since (the
// zero time: all), oldest first. The agent must exist (ErrAgentNotFound);
// after Close, ErrClosed.
func (rt *Runtime) Logs(name acl.AgentID, since time.Time) ([]LogRecord, error) {
	if _, err := rt.agent(name); err != nil {
		return nil, err
	}
	return rt.logs.records(name, since), nil
}

// logBook holds each agent's recent records.
type logBook struct {
	n     int
	level slog.Level
	now   func() time.Time
	mu    sync.Mutex
	rings map[acl.AgentID]*logRing
}

type logRing struct {
	recs []LogRecord
	next int // where the next record goes once recs is full
}

func (b *logBook) init(n int, level slog.Level, now func() time.Time) {
	b.n, b.level, b.now, b.rings = n, level, now, map[acl.AgentID]*logRing{}
}

func (b *logBook) add(r LogRecord) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ring := b.rings[r.Agent]
	if ring == nil {
		ring = &logRing{recs: make([]LogRecord, 0, min(b.n, 16))}
		b.rings[r.Agent] = ring
	}
	if len(ring.recs) < b.n {
		ring.recs = append(ring.recs, r)
		return
	}
	ring.recs[ring.next] = r
	ring.next = (ring.next + 1) % b.n
}

func (b *logBook) records(agent acl.AgentID, since time.Time) []LogRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	ring := b.rings[agent]
	if ring == nil {
		return nil
	}
	all := append(slices.Clone(ring.recs[ring.next:]), ring.recs[:ring.next]...)
	i, _ := slices.BinarySearchFunc(all, since, func(r LogRecord, t time.Time) int { return r.Time.Compare(t) })
	return all[i:]
}

func (b *logBook) forget(agent acl.AgentID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.rings, agent)
}

// bookHandler is the slog.Handler in front of the runtime's logger: it
// files every record that names an agent — as an attribute of the record
// or of the logger (With) — into the log book, then passes it on if the
// next handler wants it. The agent's name comes from the "agent" attribute
// every runtime, handler and guest logger carries.
type bookHandler struct {
	book   *logBook
	next   slog.Handler
	agent  acl.AgentID // from WithAttrs
	prefix string      // the open groups, "g1.g2."
	attrs  []slog.Attr // from WithAttrs, other than the agent
}

func (h *bookHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return (h.book.n > 0 && level >= h.book.level) || h.next.Enabled(ctx, level)
}

func (h *bookHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.book.n > 0 && r.Level >= h.book.level {
		rec := LogRecord{Time: h.book.now(), Level: r.Level, Agent: h.agent, Message: r.Message}
		rec.Attrs = slices.Clone(h.attrs)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "agent" && h.prefix == "" {
				rec.Agent = acl.AgentID(a.Value.String())
				return true
			}
			rec.Attrs = append(rec.Attrs, slog.Attr{Key: h.prefix + a.Key, Value: a.Value.Resolve()})
			return true
		})
		if rec.Agent != "" {
			h.book.add(rec)
		}
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *bookHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = slices.Clone(h.attrs)
	for _, a := range attrs {
		if a.Key == "agent" && h.prefix == "" {
			c.agent = acl.AgentID(a.Value.String())
			continue
		}
		c.attrs = append(c.attrs, slog.Attr{Key: h.prefix + a.Key, Value: a.Value.Resolve()})
	}
	c.next = h.next.WithAttrs(attrs)
	return &c
}

func (h *bookHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix = h.prefix + name + "."
	c.next = h.next.WithGroup(name)
	return &c
}

// String renders a record like a text log line, for CLIs and tests.
func (r LogRecord) String() string {
	s := fmt.Sprintf("%s %s %s: %s", r.Time.Format(time.RFC3339Nano), r.Level, r.Agent, r.Message)
	for _, a := range r.Attrs {
		s += " " + a.String()
	}
	return s
}
