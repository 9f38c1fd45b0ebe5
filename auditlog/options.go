package auditlog

import (
	"fmt"
	"time"
)

// Option configures Open.
type Option func(*config) error

type config struct {
	retention    Retention
	segmentBytes int64
	syncEvery    time.Duration
}

// Retention bounds what the Log keeps; zero fields are unbounded, and the
// zero Retention (the default) keeps everything.
type Retention struct {
	MaxAge     time.Duration // segments whose records are all older than this go (by the runtime's clock)
	MaxRecords int           // segments go while the records after them number at least this
}

// WithRetention removes old segments within r; see the package doc.
func WithRetention(r Retention) Option {
	return func(c *config) error {
		switch {
		case r.MaxAge < 0:
			return fmt.Errorf("auditlog: Retention.MaxAge: %v is negative", r.MaxAge)
		case r.MaxRecords < 0:
			return fmt.Errorf("auditlog: Retention.MaxRecords: %d is negative", r.MaxRecords)
		}
		c.retention = r
		return nil
	}
}

// WithSegmentBytes sets the size at which a segment file is closed and the
// next begun (default 4 MiB). Retention removes whole segments, so this is
// also its granularity.
func WithSegmentBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("auditlog: WithSegmentBytes: %d must be positive", n)
		}
		c.segmentBytes = n
		return nil
	}
}

// WithSyncInterval sets how often written records are fsync'd (default one
// second); 0 fsyncs each record before Append returns.
func WithSyncInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("auditlog: WithSyncInterval: %v is negative", d)
		}
		c.syncEvery = d
		return nil
	}
}
