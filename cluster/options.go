package cluster

import (
	"crypto/ed25519"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// Option configures a Node in New.
type Option func(*config) error

type config struct {
	urls          []string
	natsOpts      []nats.Option
	cluster       string
	replicas      int
	lease         time.Duration
	ackWait       time.Duration
	retireAfter   time.Duration // WithDeadNodeRetention (0: never)
	sendTimeout   time.Duration
	connectWait   time.Duration
	maxBytes      int
	maxAckPending int
	asyncWindow   int // 0: every send waits for its PubAck
	dedup         bool
	direct        bool // WithDirectRequests
	key           ed25519.PrivateKey
	logger        *slog.Logger
	onReject      func(Rejection)
	replyTable    int
	placement     PlacementFunc
}

// Defaults.
const (
	DefaultCluster       = "caxton"
	DefaultLease         = 6 * time.Second
	DefaultAckWait       = 30 * time.Second
	DefaultSendTimeout   = 5 * time.Second
	DefaultMaxBytes      = 1 << 20 // the NATS server's default max_payload
	DefaultMaxAckPending = 4096
)

// WithURLs sets the NATS servers to connect to (nats://host:port, or
// tls://...). Give every server of the NATS cluster: the client moves to
// another one when its server goes away.
func WithURLs(urls ...string) Option {
	return func(c *config) error {
		if len(urls) == 0 {
			return configErr("WithURLs", "no URL")
		}
		for i, u := range urls {
			if u == "" {
				return configErr("WithURLs", "url %d is empty", i)
			}
		}
		c.urls = append(c.urls, urls...)
		return nil
	}
}

// WithNATSOptions passes options through to nats.Connect: credentials
// (nats.UserCredentials, nats.Nkey, nats.UserInfo, nats.Token), TLS
// (nats.Secure, nats.RootCAs, nats.ClientCert), names, and so on. The
// node adds its own reconnect and event handlers after these.
func WithNATSOptions(opts ...nats.Option) Option {
	return func(c *config) error {
		for i, o := range opts {
			if o == nil {
				return configErr("WithNATSOptions", "option %d is nil", i)
			}
		}
		c.natsOpts = append(c.natsOpts, opts...)
		return nil
	}
}

// WithClusterName namespaces everything the cluster keeps in NATS
// (subjects caxton.<name>.>, stream CAXTON_<name>_MAIL, buckets
// CAXTON_<name>_NODES and _AGENTS), so several Caxton clusters can share
// one NATS system. Letters, digits, '-' and '_' (default "caxton").
func WithClusterName(name string) Option {
	return func(c *config) error {
		if !validToken(name) {
			return configErr("WithClusterName", "%q: want 1-64 letters, digits, '-' or '_'", name)
		}
		c.cluster = name
		return nil
	}
}

// WithReplicas sets the JetStream replication of the mail stream, its
// consumers and the directory buckets (default: 3 if the NATS system has
// at least 3 servers, else 1). R3 survives the loss of one NATS server.
func WithReplicas(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 5 {
			return configErr("WithReplicas", "%d: JetStream replicas are 1 to 5", n)
		}
		c.replicas = n
		return nil
	}
}

// WithLease sets how long a node's directory lease lasts without a
// heartbeat (default 6 s; it heartbeats every third of it). A node silent
// that long is down: its agents can be spawned elsewhere and take over
// their queues.
func WithLease(d time.Duration) Option {
	return func(c *config) error {
		if d < 300*time.Millisecond {
			return configErr("WithLease", "%s is under 300ms", d)
		}
		c.lease = d
		return nil
	}
}

// WithAckWait sets how long JetStream waits for a node to acknowledge a
// message before giving it to another replica (default 30 s). A node
// extends it for messages its agents are still working on (retries with
// backoff), so it bounds only how soon a dead node's in-flight messages
// are redelivered.
func WithAckWait(d time.Duration) Option {
	return func(c *config) error {
		if d < 100*time.Millisecond {
			return configErr("WithAckWait", "%s is under 100ms", d)
		}
		c.ackWait = d
		return nil
	}
}

// DefaultDeadNodeRetention is how long a node without a lease keeps its
// mail consumer by default (WithDeadNodeRetention).
const DefaultDeadNodeRetention = time.Hour

// WithDeadNodeRetention sets how long the mail consumer of a node without
// a lease (dead, or closed) is kept after a live node began serving it
// (default DefaultDeadNodeRetention; 0 keeps it for ever). Past that, the
// node serving it deletes it once it holds no message and the directory
// places no agent on that node any more: a consumer is a replicated group
// on the NATS servers, and a cluster whose nodes take a new name at every
// start (pods, say) would otherwise gather one for every name ever used.
// A node that comes back under the name makes its consumer again. A
// message published to the retired node's subjects afterwards — only by a
// sender whose directory is older than the retention — waits in the
// stream until a node of that name starts.
func WithDeadNodeRetention(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return configErr("WithDeadNodeRetention", "%s is negative", d)
		}
		c.retireAfter = d
		return nil
	}
}

// WithSendTimeout bounds how long a send to another node waits while the
// NATS connection is down, and for its JetStream acknowledgement, before
// failing with *UnavailableError (default 5 s). The sender's context can
// end it sooner.
func WithSendTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return configErr("WithSendTimeout", "%s is not positive", d)
		}
		c.sendTimeout = d
		return nil
	}
}

// WithConnectWait makes New retry an unreachable NATS for up to d instead
// of failing at once (default 0: fail at once with *UnavailableError). It
// also bounds New's wait for JetStream to make the stream and buckets
// (at least 10 s, or WithSendTimeout's if longer): a NATS cluster that has
// just formed, on a busy machine, can take longer to elect their leaders.
func WithConnectWait(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return configErr("WithConnectWait", "%s is negative", d)
		}
		c.connectWait = d
		return nil
	}
}

// WithMaxMessageBytes bounds an encoded message, and a frame of messages
// sent together to one agent (default 1 MiB, the NATS server's default
// max_payload). Larger sends fail with ErrTooLarge; larger arrivals are
// rejected and recorded.
func WithMaxMessageBytes(n int) Option {
	return func(c *config) error {
		if n < 1024 {
			return configErr("WithMaxMessageBytes", "%d is under 1024", n)
		}
		c.maxBytes = n
		return nil
	}
}

// WithMaxAckPending bounds the frames (each up to 256 messages for one
// agent) that JetStream hands a node's consumer before they are
// acknowledged (default 4096): the node's window over all the agents it
// hosts, which bounds what a node holds in memory; a slow agent's frames
// stay in it until handled, so one agent can use the whole window.
func WithMaxAckPending(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return configErr("WithMaxAckPending", "%d is not positive", n)
		}
		c.maxAckPending = n
		return nil
	}
}

// WithAsyncPublish lets a send to another node return once the message is
// queued for its frame (see docs/design.md, "Frames"), with at most window
// messages awaiting their JetStream acknowledgement (backpressure past
// that). A message JetStream
// refuses is published again (same id, so it is stored once) for up to
// WithSendTimeout, then dead-lettered on the sending node with reason
// "remote publish failed". Without it (the default) Send returns only
// when JetStream has stored the message on its replicas; with it a
// sending process that dies loses the window, as an in-memory mailbox
// does.
func WithAsyncPublish(window int) Option {
	return func(c *config) error {
		if window < 1 {
			return configErr("WithAsyncPublish", "window %d is not positive", window)
		}
		c.asyncWindow = window
		return nil
	}
}

// WithDeduplication gives every message crossing nodes a JetStream
// message id, so a message published again after its acknowledgement was
// lost (a NATS server dying, a leader election) is stored once instead of
// twice. Without it such a retry is an at-least-once duplicate, which
// handlers must tolerate anyway (a redelivery after a node dies is one
// too). It is off by default because it costs: on the cross-node send
// benchmark it cut JetStream's throughput about threefold (BENCHMARKS.md).
func WithDeduplication() Option {
	return func(c *config) error {
		c.dedup = true
		return nil
	}
}

// WithDirectRequests sends the message of a Request waiting for its reply
// (Runtime.Request, an inbox's or an agent's) to another node over core
// NATS, signed as ever, straight to the node hosting the receiver, instead
// of through its JetStream queue: one network round trip instead of a
// replicated write, a pull and a replicated ack (see BENCHMARKS.md,
// "Request latency"). The price is the request message's guarantee: it is
// delivered at most once — lost with a node or a connection, the Request
// ends at its deadline (or at once with a failure notice if no node can
// take it) — and it may overtake messages its sender sent the receiver
// before it through the queue. Once queued on the receiving node, retries
// and dead-lettering are the local ones. Plain sends are unaffected.
func WithDirectRequests() Option {
	return func(c *config) error {
		c.direct = true
		return nil
	}
}

// WithKey sets the node's Ed25519 signing key (default: a fresh one per
// run, published in the directory). A stable key lets operators pin it.
func WithKey(k ed25519.PrivateKey) Option {
	return func(c *config) error {
		if len(k) != ed25519.PrivateKeySize {
			return configErr("WithKey", "%d bytes is not an Ed25519 private key", len(k))
		}
		c.key = k
		return nil
	}
}

// WithLogger sets the node's logger (default: the runtime's).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return configErr("WithLogger", "nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithRejectHook calls fn with every message the node refuses (see
// Rejection), on the goroutine that received it: keep it quick.
func WithRejectHook(fn func(Rejection)) Option {
	return func(c *config) error {
		if fn == nil {
			return configErr("WithRejectHook", "nil function")
		}
		c.onReject = fn
		return nil
	}
}

func newConfig(opts []Option) (*config, error) {
	c := &config{
		cluster:       DefaultCluster,
		lease:         DefaultLease,
		ackWait:       DefaultAckWait,
		retireAfter:   DefaultDeadNodeRetention,
		sendTimeout:   DefaultSendTimeout,
		maxBytes:      DefaultMaxBytes,
		maxAckPending: DefaultMaxAckPending,
		replyTable:    1 << 16,
	}
	for i, o := range opts {
		if o == nil {
			return nil, configErr("options", "option %d is nil", i)
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if len(c.urls) == 0 {
		return nil, configErr("WithURLs", "no NATS URL (use embedded.Start for a development server)")
	}
	return c, nil
}
