package durable

import (
	"fmt"
	"log/slog"
	"time"
)

// Option configures Open, in the style of nats.go's Connect options.
type Option func(*config)

type config struct {
	queueLimit int
	history    *Retention
	repair     bool
	logger     *slog.Logger
	now        func() time.Time
	memTable   uint64
}

// WithQueueLimit caps every queue at n envelopes (queued plus in flight).
// A queue for an agent that is offline keeps filling while its agent is
// away; the cap bounds the disk it can take. Push on a full queue returns a
// *QueueFullError (errors.Is ErrQueueFull) naming the queue. n <= 0 means
// no limit, the default.
func WithQueueLimit(n int) Option { return func(c *config) { c.queueLimit = max(n, 0) } }

// WithHistory keeps a copy of every pushed envelope, readable with History,
// within the retention bounds r. History is off by default because it
// roughly doubles what a push writes.
func WithHistory(r Retention) Option { return func(c *config) { c.history = &r } }

// WithRepair makes Open recover from records that fail their checksum or
// do not decode, instead of refusing the store: each such record is moved,
// byte for byte, to a quarantine area (see Quarantined) and Open carries on
// with the rest. Without it Open returns a *CorruptError so that nothing
// is dropped without someone deciding to. Damage the storage engine itself
// cannot read past is reported either way.
func WithRepair() Option { return func(c *config) { c.repair = true } }

// WithLogger sends the store's and the storage engine's log lines to l
// (engine chatter at Debug level). The default, and what a nil l means,
// discards them, as in every Caxton package: a library is silent unless
// given a logger.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		c.logger = l
	}
}

// WithClock sets the clock that stamps history entries and drives history
// retention by age; tests pass a fake one. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithMemTableSize sets the storage engine's memtable size in bytes
// (default 32 MiB). A queue's messages mostly die (are acked) while still
// in the memtable, so a larger one means less flushing and compaction.
func WithMemTableSize(n uint64) Option { return func(c *config) { c.memTable = n } }

// Retention bounds the history kept by WithHistory. At least one bound must
// be set; entries beyond any of them are deleted, oldest first.
type Retention struct {
	MaxAge     time.Duration // entries older than this go (by the store's clock)
	MaxEntries int           // at most this many entries
	MaxBytes   int64         // at most this many bytes of encoded entries
}

func (r Retention) validate() error {
	if r.MaxAge < 0 || r.MaxEntries < 0 || r.MaxBytes < 0 {
		return fmt.Errorf("durable: history retention: negative bound in %+v", r)
	}
	if r.MaxAge == 0 && r.MaxEntries == 0 && r.MaxBytes == 0 {
		return fmt.Errorf("durable: history retention: set MaxAge, MaxEntries or MaxBytes, or the history grows without bound")
	}
	return nil
}
