package server

import (
	"log/slog"

	"net/http"
	"path/filepath"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Option configures a Server (New).
type Option func(*config) error

type config struct {
	auth          Authenticator
	auditHook     func(AuditRecord)
	auditBuffer   int
	maxBody       int64
	maxModule     int64
	moduleDir     string
	stateDir      string
	metrics       http.Handler
	ratePerSecond float64
	rateBurst     int
	defTimeout    time.Duration
	maxTimeout    time.Duration
	logger        *slog.Logger
	ackTimeout    time.Duration
	pingInterval  time.Duration
	joinMailbox   int
	meters        metric.MeterProvider
}

// The defaults of the options.
const (
	DefaultMaxBodyBytes   = 1 << 20  // JSON bodies: 1 MiB
	DefaultMaxModuleBytes = 32 << 20 // wasm modules: 32 MiB
	DefaultAuditBuffer    = 1024
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxTimeout     = 5 * time.Minute
	DefaultAckTimeout     = 30 * time.Second
	DefaultPingInterval   = 30 * time.Second
	DefaultJoinMailbox    = 1024
)

func defaultConfig() config {
	return config{
		auditBuffer:  DefaultAuditBuffer,
		maxBody:      DefaultMaxBodyBytes,
		maxModule:    DefaultMaxModuleBytes,
		defTimeout:   DefaultRequestTimeout,
		maxTimeout:   DefaultMaxTimeout,
		logger:       slog.New(slog.DiscardHandler),
		ackTimeout:   DefaultAckTimeout,
		pingInterval: DefaultPingInterval,
		joinMailbox:  DefaultJoinMailbox,
	}
}

// WithAuthenticator identifies the caller of every request that is not
// public (everything but /healthz, /readyz and /openapi.json). Without
// one, every such request is refused: deny by default.
func WithAuthenticator(a Authenticator) Option {
	return func(c *config) error {
		if a == nil {
			return fieldErr("WithAuthenticator", "must not be nil")
		}
		c.auth = a
		return nil
	}
}

// WithAuditHook is called with every audit record (every management action
// and every refused call), in the request's goroutine: write it to a
// file or a log pipeline. Keep it quick; it holds the response up.
func WithAuditHook(fn func(AuditRecord)) Option {
	return func(c *config) error {
		c.auditHook = fn
		return nil
	}
}

// WithAuditBuffer sets how many recent audit records GET /v1/audit keeps
// (default 1024; 0 keeps none).
func WithAuditBuffer(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fieldErr("WithAuditBuffer", "must not be negative, got %d", n)
		}
		c.auditBuffer = n
		return nil
	}
}

// WithMaxBodyBytes bounds JSON request bodies (default 1 MiB); a larger
// one is refused with 413.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fieldErr("WithMaxBodyBytes", "must be positive, got %d", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithMaxModuleBytes bounds an uploaded wasm module (default 32 MiB); a
// larger one is refused with 413 naming the field "module".
func WithMaxModuleBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fieldErr("WithMaxModuleBytes", "must be positive, got %d", n)
		}
		c.maxModule = n
		return nil
	}
}

// WithModuleDir lets deploys and upgrades name a module by a path under
// dir instead of uploading it. Paths outside dir (after resolving ".."
// and symbolic links) are refused; without this option every path is.
func WithModuleDir(dir string) Option {
	return func(c *config) error {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fieldErr("WithModuleDir", "%v", err)
		}
		if abs, err = filepath.EvalSymlinks(abs); err != nil {
			return fieldErr("WithModuleDir", "%v", err)
		}
		c.moduleDir = abs
		return nil
	}
}

// WithStateDir keeps the server's deployments — each agent's spec, its
// module and version, the version before, its replicas, whether it is
// stopped — in dir, written before each action is answered, so that
// Restore brings them back after a restart or a crash. Together with a
// durable message store (caxton.WithStore) nothing is lost.
func WithStateDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return fieldErr("WithStateDir", "must not be empty")
		}
		c.stateDir = dir
		return nil
	}
}

// WithMetrics serves h at /metrics (to viewers): the handler of an
// OpenTelemetry Prometheus exporter whose MeterProvider the runtime
// records to (see NewPrometheus). Without it /metrics answers 404.
func WithMetrics(h http.Handler) Option {
	return func(c *config) error {
		c.metrics = h
		return nil
	}
}

// WithRateLimit allows each caller (by subject; an unidentified caller by
// its address) perSecond requests on average with bursts of burst; more
// are refused with 429 and audited. Zero (the default) sets no limit.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) error {
		if perSecond < 0 || burst < 0 || (perSecond > 0 && burst == 0) {
			return fieldErr("WithRateLimit", "want perSecond ≥ 0 and burst ≥ 1, got %v and %d", perSecond, burst)
		}
		c.ratePerSecond, c.rateBurst = perSecond, burst
		return nil
	}
}

// WithRequestTimeouts sets how long POST /v1/requests waits for a reply
// when the client names no timeout (default 30s), and the longest it may
// name (default 5 minutes).
func WithRequestTimeouts(def, max time.Duration) Option {
	return func(c *config) error {
		if def <= 0 || max < def {
			return fieldErr("WithRequestTimeouts", "want 0 < default ≤ max, got %v and %v", def, max)
		}
		c.defTimeout, c.maxTimeout = def, max
		return nil
	}
}

// WithLogger logs the server's own failures (a state file that cannot be
// written, a handler error answered 500).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fieldErr("WithLogger", "must not be nil")
		}
		c.logger = l
		return nil
	}
}

// WithJoinTimeouts sets how long a client joined over the WebSocket
// gateway has to acknowledge a message (default 30s; after that the
// delivery counts as a failed attempt and is retried) — also the bound on
// writing a frame to it — and how often the server pings it to find a
// connection that died without closing (default 30s).
func WithJoinTimeouts(ack, ping time.Duration) Option {
	return func(c *config) error {
		if ack <= 0 || ping <= 0 {
			return fieldErr("WithJoinTimeouts", "want positive durations, got %v and %v", ack, ping)
		}
		c.ackTimeout, c.pingInterval = ack, ping
		return nil
	}
}

// WithJoinMailbox bounds the mailbox of each agent a WebSocket client
// joins as (default 1024). A full one refuses new messages at once
// (caxton.ErrMailboxFull; 503 on HTTP) rather than holding senders until
// the client comes back: a client that is slow or away pushes back on
// its senders, and nothing is dropped.
func WithJoinMailbox(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fieldErr("WithJoinMailbox", "must be positive, got %d", n)
		}
		c.joinMailbox = n
		return nil
	}
}

// WithMeterProvider records the server's own HTTP metrics to mp, in the
// OpenTelemetry semantic conventions: http.server.request.duration (by
// method, route pattern, status) and http.server.active_requests. Give it
// the provider of NewPrometheus to serve them at /metrics beside the
// runtime's.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
		if mp == nil {
			return fieldErr("WithMeterProvider", "must not be nil")
		}
		c.meters = mp
		return nil
	}
}
