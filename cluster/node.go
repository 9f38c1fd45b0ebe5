package cluster

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Node is one runtime's membership of a cluster: its NATS connection, its
// lease and key in the directory, its JetStream mail consumer (one per
// node, whatever the number of agents it hosts), and the reply routes back
// to nodes that sent it requests. It
// implements caxton.Cluster; give it to caxton.WithCluster, and the
// runtime owns and closes it.
type Node struct {
	name     string
	cfg      *config
	lay      layout
	key      ed25519.PrivateKey
	nc       *nats.Conn
	js       jetstream.JetStream
	replicas int
	dir      *directory
	replies  replyTable
	logger   *slog.Logger
	started  time.Time

	link    *caxton.ClusterLink
	durable bool            // the runtime's mailboxes are on disk: no delivery from the consumer's goroutine (hosted.offer)
	ctx     context.Context // ends at Close
	stop    context.CancelFunc
	done    chan struct{} // closed at Close: background loops end
	wg      sync.WaitGroup

	upMu sync.Mutex
	up   chan struct{} // closed while connected

	hmu     sync.Mutex
	hosted  map[acl.AgentID]*hosted
	placing map[acl.AgentID]bool // orphans the placement hook is spawning here
	sub     *nats.Subscription

	stream      jetstream.Stream
	mail        jetstream.ConsumeContext // this node's own mail consumer
	amu         sync.Mutex               // guards adopted, adoptClosed
	adopted     map[string]*adoption     // other nodes' (and the park's) mail this node serves
	adoptClosed bool

	fmu    sync.Mutex
	frames map[*frame]time.Time // taken, with messages for agents hosted here, not yet acknowledged: since when (or the last InProgress)

	smu          sync.Mutex // guards settleClosed; settles.Add happens under it
	settleClosed bool
	settles      sync.WaitGroup // resends under way (frame.go)

	outMu     sync.RWMutex // read-held to queue a message; Close sets outClosed under it, after which nothing queues
	outClosed bool
	outboxes  outboxes        // by receiver (outbox.go)
	flushers  sync.WaitGroup  // running outbox flushers
	acks      chan pendingAck // async frames awaiting their PubAck (WithAsyncPublish)
	window    chan struct{}   // WithAsyncPublish's window: a slot per message not yet acknowledged

	rejMu    sync.Mutex
	rejected []Rejection // the most recent, at most rejectKeep
	rejN     atomic.Uint64
	closed   atomic.Bool
}

const rejectKeep = 256

// New connects a node named name (1-64 letters, digits, '-' or '_',
// unique in the cluster) to NATS, makes sure the mail stream and the
// directory buckets exist, and takes its lease. NATS out of reach is an
// *UnavailableError at once, or after WithConnectWait.
func New(name string, opts ...Option) (*Node, error) {
	if !validToken(name) {
		return nil, configErr("name", "%q: want 1-64 letters, digits, '-' or '_'", name)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	n := &Node{name: name, cfg: cfg, lay: newLayout(cfg.cluster), key: cfg.key, hosted: map[acl.AgentID]*hosted{}, frames: map[*frame]time.Time{},
		placing: map[acl.AgentID]bool{}, adopted: map[string]*adoption{}, done: make(chan struct{}), up: make(chan struct{}), started: time.Now()}
	n.ctx, n.stop = context.WithCancel(context.Background())
	n.logger = cfg.logger
	if n.logger == nil {
		n.logger = slog.New(slog.DiscardHandler)
	}
	if n.key == nil {
		if _, n.key, err = ed25519.GenerateKey(rand.Reader); err != nil {
			return nil, err
		}
	}
	n.replies.init(cfg.replyTable)
	if err := n.connect(); err != nil {
		n.stop()
		return nil, err
	}
	if err := n.setup(); err != nil {
		n.nc.Close()
		n.stop()
		return nil, err
	}
	return n, nil
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// PublicKey returns the key other nodes verify this node's messages with.
func (n *Node) PublicKey() ed25519.PublicKey { return n.key.Public().(ed25519.PublicKey) }

// Directory returns every agent of the cluster as this node sees it.
func (n *Node) Directory() []AgentEntry { return n.dir.entries() }

// Nodes returns the nodes with a current lease, this one included.
func (n *Node) Nodes() []string {
	out := n.dir.liveNodes()
	if !slices.Contains(out, n.name) {
		out = append(out, n.name)
		slices.Sort(out)
	}
	return out
}

// Rejections returns the most recent messages this node refused (at most
// 256), oldest first, and how many it has refused in all.
func (n *Node) Rejections() ([]Rejection, uint64) {
	n.rejMu.Lock()
	defer n.rejMu.Unlock()
	return slices.Clone(n.rejected), n.rejN.Load()
}

func (n *Node) connect() error {
	opts := append(slices.Clone(n.cfg.natsOpts),
		nats.Name("caxton-"+n.cfg.cluster+"-"+n.name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectBufSize(-1), // a send while disconnected waits and fails visibly, never sits in a buffer
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			n.setUp(false)
			n.logger.Warn("cluster: NATS connection lost; remote sends wait for it", "node", n.name, "error", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			n.logger.Info("cluster: NATS connection back", "node", n.name, "server", c.ConnectedUrlRedacted())
			n.setUp(true)
		}),
	)
	url := joinURLs(n.cfg.urls)
	start := time.Now()
	for {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			n.nc = nc
			n.setUp(true)
			return nil
		}
		if time.Since(start) >= n.cfg.connectWait {
			return &UnavailableError{Op: "connect", Waited: time.Since(start), Err: err}
		}
		time.Sleep(min(250*time.Millisecond, n.cfg.connectWait-time.Since(start)+time.Millisecond))
	}
}

func joinURLs(urls []string) string {
	s := ""
	for i, u := range urls {
		if i > 0 {
			s += ","
		}
		s += u
	}
	return s
}

func (n *Node) setUp(up bool) {
	n.upMu.Lock()
	defer n.upMu.Unlock()
	select {
	case <-n.up:
		if !up {
			n.up = make(chan struct{})
		}
	default:
		if up {
			close(n.up)
		}
	}
}

// awaitUp waits (bounded by WithSendTimeout and ctx) for the connection.
func (n *Node) awaitUp(ctx context.Context, receiver acl.AgentID) error {
	n.upMu.Lock()
	up := n.up
	n.upMu.Unlock()
	select {
	case <-up:
		return nil
	default:
	}
	start := time.Now()
	t := time.NewTimer(n.cfg.sendTimeout)
	defer t.Stop()
	select {
	case <-up:
		return nil
	case <-t.C:
		return &UnavailableError{Op: "send", Receiver: string(receiver), Waited: time.Since(start), Err: nats.ErrConnectionClosed}
	case <-ctx.Done():
		return &UnavailableError{Op: "send", Receiver: string(receiver), Waited: time.Since(start), Err: ctx.Err()}
	case <-n.done:
		return ErrClosed
	}
}

// setup makes sure the stream and buckets exist and takes the lease.
func (n *Node) setup() error {
	var err error
	if n.js, err = jetstream.New(n.nc, n.asyncOpts()...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(n.ctx, max(n.cfg.sendTimeout, n.cfg.connectWait, 10*time.Second))
	defer cancel()
	n.replicas = n.cfg.replicas
	if n.replicas == 0 {
		n.replicas = 1
		if len(n.nc.Servers()) >= 3 {
			n.replicas = 3
		}
	}
	if st, err := n.js.Stream(ctx, n.lay.stream); err == nil && st.CachedInfo().Config.Retention != jetstream.WorkQueuePolicy {
		return fmt.Errorf("%w: the mail stream %s has %s retention (made by a Caxton version between 306a86e and eab07f2, "+
			"which also used other subjects); it must be a work queue, and NATS does not change a stream's retention: "+
			"let those nodes drain it, delete it (nats stream rm %s) and start the nodes again",
			ErrIncompatible, n.lay.stream, st.CachedInfo().Config.Retention, n.lay.stream)
	}
	// Creating them retries while the NATS cluster is still forming (or a
	// server is restarting): JetStream then answers "no suitable peers" or
	// "temporarily unavailable" for a while, bounded by ctx.
	if n.stream, err = kvTry(ctx, func(ctx context.Context) (jetstream.Stream, error) {
		return n.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        n.lay.stream,
			Description: "Caxton agents' mail: a subject and a durable consumer per hosting node",
			Subjects:    []string{n.lay.mailSubjects()},
			Retention:   jetstream.WorkQueuePolicy, // a frame goes once acknowledged (lost by 306a86e, restored with TestAFrameForSeveralAgentsIsSplitByReceiver)
			Storage:     jetstream.FileStorage,
			Replicas:    n.replicas,
			MaxMsgSize:  int32(min(n.cfg.maxBytes+4096, 1<<30)),
			Duplicates:  2 * time.Minute,
		})
	}); err != nil {
		return fmt.Errorf("cluster: creating the mail stream %s: %w", n.lay.stream, err)
	}
	bucket := func(cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
		return kvTry(ctx, func(ctx context.Context) (jetstream.KeyValue, error) { return n.js.CreateOrUpdateKeyValue(ctx, cfg) })
	}
	nodes, err := bucket(jetstream.KeyValueConfig{
		Bucket: n.lay.nodesKV, Description: "Caxton node leases and keys", TTL: n.cfg.lease,
		LimitMarkerTTL: n.cfg.lease, Replicas: n.replicas, Storage: jetstream.FileStorage})
	if err != nil {
		return fmt.Errorf("cluster: creating the node bucket %s: %w", n.lay.nodesKV, err)
	}
	agents, err := bucket(jetstream.KeyValueConfig{
		Bucket: n.lay.agentKV, Description: "Caxton agent directory", Replicas: n.replicas, Storage: jetstream.FileStorage})
	if err != nil {
		return fmt.Errorf("cluster: creating the directory bucket %s: %w", n.lay.agentKV, err)
	}
	keys, err := bucket(jetstream.KeyValueConfig{
		Bucket: n.lay.keysKV, Description: "Caxton node keys (they outlive leases: a dead node's messages stay verifiable)",
		Replicas: n.replicas, Storage: jetstream.FileStorage})
	if err != nil {
		return fmt.Errorf("cluster: creating the key bucket %s: %w", n.lay.keysKV, err)
	}
	n.dir = newDirectory(n, nodes, agents, keys)
	if err := n.dir.publishKey(ctx); err != nil {
		return fmt.Errorf("cluster: publishing the node key: %w", err)
	}
	if e, err := nodes.Get(ctx, n.name); err == nil {
		var r NodeRecord
		if json.Unmarshal(e.Value(), &r) == nil && !slices.Equal(r.Key, n.PublicKey()) {
			return configErr("name", "node %q is already in the cluster (its lease is current); names must be unique", n.name)
		}
	}
	for _, node := range []string{n.name, parkNode} {
		cfg := n.mailConsumer(node)
		if _, err := kvTry(ctx, func(ctx context.Context) (jetstream.Consumer, error) {
			return n.js.CreateOrUpdateConsumer(ctx, n.lay.stream, cfg)
		}); err != nil {
			return fmt.Errorf("cluster: creating the mail consumer %s: %w", cfg.Durable, err)
		}
	}
	if err := n.beat(ctx); err != nil {
		return fmt.Errorf("cluster: taking the node lease: %w", err)
	}
	if err := n.dir.watch(ctx); err != nil {
		return err
	}
	return n.dir.withdrawStale(ctx)
}

func (n *Node) asyncOpts() []jetstream.JetStreamOpt {
	if n.cfg.asyncWindow == 0 {
		return nil
	}
	return []jetstream.JetStreamOpt{jetstream.WithPublishAsyncMaxPending(n.cfg.asyncWindow)}
}

// beat renews the lease.
func (n *Node) beat(ctx context.Context) error {
	b, _ := json.Marshal(NodeRecord{Name: n.name, Key: n.PublicKey(), Started: n.started, Beat: time.Now(), Placement: n.cfg.placement != nil})
	_, err := n.dir.nodes.Put(ctx, n.name, b)
	return err
}

// Attach implements caxton.Cluster: it subscribes to the node's own
// subject and starts the heartbeat.
func (n *Node) Attach(link *caxton.ClusterLink) error {
	if n.link != nil {
		return errors.New("cluster: node already attached to a runtime")
	}
	n.link = link
	n.durable = link.Durable()
	if n.cfg.logger == nil {
		n.logger = link.Runtime().Logger()
	}
	sub, err := n.nc.Subscribe(n.lay.nodeSubject(n.name), n.receiveDirect)
	if err != nil {
		return err
	}
	if err := sub.SetPendingLimits(1<<16, 256<<20); err != nil {
		return err
	}
	n.sub = sub
	cons, err := n.js.Consumer(n.ctx, n.lay.stream, nodeConsumer(n.name))
	if err != nil {
		return fmt.Errorf("cluster: the node's mail consumer: %w", err)
	}
	if n.mail, err = n.consume(cons, n.name); err != nil {
		return fmt.Errorf("cluster: consuming the node's mail: %w", err)
	}
	if n.cfg.asyncWindow > 0 {
		n.acks = make(chan pendingAck, n.cfg.asyncWindow)
		n.window = make(chan struct{}, n.cfg.asyncWindow)
		n.wg.Add(1)
		go n.trackAcks()
	}
	n.wg.Add(1)
	go n.heartbeat()
	if n.cfg.placement != nil {
		n.wg.Add(1)
		go n.placeLoop()
	}
	return nil
}

func (n *Node) heartbeat() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-n.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.lease/3)
		if err := n.beat(ctx); err != nil {
			n.logger.Warn("cluster: renewing the node lease failed", "node", n.name, "error", err)
		}
		n.syncPlacements(ctx)
		n.dir.sweepLeases(ctx)
		n.extendInFlight()
		n.adopt(ctx)
		cancel()
	}
}

// syncPlacements writes changed state, topics and replicas of this node's
// agents to the directory.
func (n *Node) syncPlacements(ctx context.Context) {
	for _, info := range n.link.Runtime().Agents() {
		n.hmu.Lock()
		h := n.hosted[info.Name]
		n.hmu.Unlock()
		if h == nil {
			continue
		}
		p := Placement{Replicas: info.Replicas, State: info.State.String(), Topics: slices.Sorted(slices.Values(info.Topics))}
		if h.placed.Replicas == p.Replicas && h.placed.State == p.State && slices.Equal(h.placed.Topics, p.Topics) {
			continue
		}
		if err := n.dir.update(ctx, info.Name, false, func(q *Placement) bool { *q = p; return true }); err != nil {
			n.logger.Warn("cluster: updating the directory", "agent", info.Name, "error", err)
			continue
		}
		h.placed = p
	}
}

// Close implements caxton.Cluster: the runtime calls it after its agents
// drained. The node stops consuming, withdraws its placements (entries of
// agents hosted nowhere else stay, so their messages wait in JetStream for
// the next Spawn: a live node adopts this node's mail once its lease is
// gone), ends its lease and closes the connection.
func (n *Node) Close(ctx context.Context) error {
	if !n.closed.CompareAndSwap(false, true) {
		return nil
	}
	n.hmu.Lock()
	hs := make([]*hosted, 0, len(n.hosted))
	for _, h := range n.hosted {
		hs = append(hs, h)
	}
	n.hmu.Unlock()
	if n.mail != nil {
		n.mail.Stop()
	}
	n.stopAdopted()
	var errs []error
	for _, h := range hs {
		n.unhost(h)
		if err := n.dir.update(ctx, h.name, false, func(*Placement) bool { return false }); err != nil {
			errs = append(errs, fmt.Errorf("withdrawing %q from the directory: %w", h.name, err))
		}
	}
	if n.sub != nil {
		_ = n.sub.Unsubscribe()
	}
	settled := make(chan struct{}) // what the unhosted agents gave back is passed on
	go func() { n.closeSettles(); close(settled) }()
	select {
	case <-settled:
	case <-ctx.Done():
		n.stop()
		<-settled
	}
	n.outMu.Lock() // no send queues after this: the flushers end with their queues
	n.outClosed = true
	n.outMu.Unlock()
	flushed := make(chan struct{})
	go func() { n.flushers.Wait(); close(flushed) }()
	select {
	case <-flushed:
	case <-ctx.Done(): // NATS away: what is still queued fails (ErrClosed, or dead-lettered if async)
		errs = append(errs, fmt.Errorf("sends still queued for other nodes when the close ended: %w", ctx.Err()))
		n.stop() // a publish waiting for its PubAck ends now
	}
	close(n.done) // publishes stop waiting
	<-flushed
	if n.acks != nil {
		close(n.acks)
	}
	n.wg.Wait()
	if err := n.dir.nodes.Delete(ctx, n.name); err != nil {
		errs = append(errs, fmt.Errorf("ending the lease: %w", err))
	}
	n.stop()
	if err := n.nc.FlushWithContext(ctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		errs = append(errs, err)
	}
	n.nc.Close()
	return errors.Join(errs...)
}
