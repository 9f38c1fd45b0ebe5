package cluster

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NodeRecord is a node's lease in the directory (bucket
// CAXTON_<cluster>_NODES, key = node name). The bucket's MaxAge is the
// lease: a node re-puts its record every third of it, and a record not
// renewed in time is removed by the server, which places a delete marker
// for every node's watcher; a node whose watcher missed the marker drops
// the lease on its next heartbeat once the bucket confirms it is gone
// (directory.sweepLeases).
type NodeRecord struct {
	Name    string    `json:"name"`
	Key     []byte    `json:"key"` // Ed25519 public key: verifies the node's messages
	Started time.Time `json:"started"`
	Beat    time.Time `json:"beat"`
	// Placement says the node has a placement hook (WithPlacement): it is
	// a candidate for taking over orphaned agents.
	Placement bool `json:"placement,omitempty"`
}

// AgentRecord is an agent's directory entry (bucket
// CAXTON_<cluster>_AGENTS, key = the agent's name as a token). It lives
// until the agent is removed: while no live node hosts it, messages for it
// wait in JetStream for the next Spawn, anywhere.
type AgentRecord struct {
	Name acl.AgentID `json:"name"`
	// Fingerprint identifies "the same agent": kind, wasm module hash,
	// capabilities and topics at spawn. A Spawn elsewhere with the same
	// fingerprint adds replicas; with another, it is ErrAgentExists.
	Fingerprint  string               `json:"fingerprint"`
	Capabilities []string             `json:"capabilities,omitempty"`
	Placements   map[string]Placement `json:"placements"` // by node
}

// Placement is an agent's replicas on one node.
type Placement struct {
	Replicas int      `json:"replicas"`
	State    string   `json:"state"`
	Topics   []string `json:"topics,omitempty"`
}

// AgentEntry is a directory entry as a node sees it: where an agent runs
// and whether those nodes are alive.
type AgentEntry struct {
	AgentRecord
	Live []string // nodes hosting it whose lease is current, sorted
}

// directory is a node's cached view of both buckets, kept current by
// watchers, with indexes rebuilt lazily.
type directory struct {
	n      *Node
	nodes  jetstream.KeyValue
	agents jetstream.KeyValue
	keys   jetstream.KeyValue

	mu        sync.RWMutex
	nodeRecs  map[string]NodeRecord
	nodeSeen  map[string]time.Time         // when the watcher last delivered each lease (local clock)
	keyCache  map[string]ed25519.PublicKey // by "<node>.<key id>"; keys never change
	agentRecs map[acl.AgentID]AgentRecord
	byTopic   map[string][]caxton.Remote
	byCap     map[string][]acl.AgentID
	dirty     bool
}

func newDirectory(n *Node, nodes, agents, keys jetstream.KeyValue) *directory {
	return &directory{n: n, nodes: nodes, agents: agents, keys: keys,
		nodeRecs: map[string]NodeRecord{}, nodeSeen: map[string]time.Time{}, keyCache: map[string]ed25519.PublicKey{}, agentRecs: map[acl.AgentID]AgentRecord{}}
}

// watch starts both watchers (they run until the node closes) and returns
// once each has delivered the bucket's current contents; ctx bounds that
// wait.
func (d *directory) watch(ctx context.Context) error {
	nw, err := d.nodes.WatchAll(d.n.ctx)
	if err != nil {
		return fmt.Errorf("watching node leases: %w", err)
	}
	aw, err := d.agents.WatchAll(d.n.ctx)
	if err != nil {
		_ = nw.Stop()
		return fmt.Errorf("watching the agent directory: %w", err)
	}
	nready, aready := make(chan struct{}), make(chan struct{})
	go d.follow(nw, nready, d.applyNode)
	go d.follow(aw, aready, d.applyAgent)
	for _, ch := range []chan struct{}{nready, aready} {
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("reading the directory: %w", ctx.Err())
		}
	}
	return nil
}

func (d *directory) follow(w jetstream.KeyWatcher, ready chan struct{}, apply func(jetstream.KeyValueEntry)) {
	defer func() { _ = w.Stop() }()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil { // initial values done
				if ready != nil {
					close(ready)
					ready = nil
				}
				continue
			}
			apply(e)
		case <-d.n.done:
			return
		}
	}
}

func (d *directory) applyNode(e jetstream.KeyValueEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		if _, ok := d.nodeRecs[e.Key()]; ok {
			d.n.logger.Info("cluster: node lease ended", "node", e.Key())
		}
		delete(d.nodeRecs, e.Key())
		delete(d.nodeSeen, e.Key())
		d.dirty = true
		return
	}
	var r NodeRecord
	if json.Unmarshal(e.Value(), &r) != nil || r.Name != e.Key() || len(r.Key) != ed25519.PublicKeySize {
		d.n.logger.Warn("cluster: ignoring a malformed node lease", "key", e.Key())
		return
	}
	if _, known := d.nodeRecs[r.Name]; !known {
		d.dirty = true
	}
	d.nodeRecs[r.Name] = r
	d.nodeSeen[r.Name] = time.Now()
}

// sweepLeases drops the cached leases that were not renewed within a lease
// and that the bucket no longer holds. The server ends a lease by placing
// a delete marker, but a watcher can miss it: the marker is itself removed
// after a lease (LimitMarkerTTL), and a watcher whose ordered consumer is
// recreated (its NATS server stopped, the connection moved) resumes past
// it. Without this sweep such a node would see the dead node's lease
// forever (never taking over its agents, still routing to it). A lease is
// dropped only when the bucket confirms it is gone, so a watcher that is
// merely behind does not make a live node look dead.
func (d *directory) sweepLeases(ctx context.Context) {
	now := time.Now()
	d.mu.RLock()
	var stale []string
	for node, seen := range d.nodeSeen {
		if node != d.n.name && now.Sub(seen) > d.n.cfg.lease {
			stale = append(stale, node)
		}
	}
	d.mu.RUnlock()
	for _, node := range stale {
		_, err := d.nodes.Get(ctx, node)
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // still held, or the bucket out of reach: keep the cached lease
		}
		d.mu.Lock()
		if seen, ok := d.nodeSeen[node]; ok && now.Sub(seen) > d.n.cfg.lease { // not renewed meanwhile
			d.n.logger.Info("cluster: node lease ended (gone from the bucket; its delete marker not seen)", "node", node)
			delete(d.nodeRecs, node)
			delete(d.nodeSeen, node)
			d.dirty = true
		}
		d.mu.Unlock()
	}
}

func (d *directory) applyAgent(e jetstream.KeyValueEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dirty = true
	var r AgentRecord
	if e.Operation() != jetstream.KeyValuePut {
		for name := range d.agentRecs {
			if token(name) == e.Key() {
				delete(d.agentRecs, name)
			}
		}
		return
	}
	if json.Unmarshal(e.Value(), &r) != nil || r.Name.Validate() != nil || token(r.Name) != e.Key() {
		d.n.logger.Warn("cluster: ignoring a malformed directory entry", "key", e.Key())
		return
	}
	d.agentRecs[r.Name] = r
}

// aliveLocked reports whether node holds a current lease as the watcher
// last saw it: its record is in the bucket (the server deletes it when the
// lease runs out). Decisions that take an agent from a node ask the bucket
// itself (confirmDown).
func (d *directory) aliveLocked(node string) bool {
	if node == d.n.name {
		return true
	}
	_, ok := d.nodeRecs[node]
	return ok
}

// confirmDown reports whether none of nodes holds a lease, asking the
// bucket (not the cache: a watcher catching up after a NATS fault must not
// hand a live node's agent to another).
func (d *directory) confirmDown(ctx context.Context, nodes []string) (bool, error) {
	for _, node := range nodes {
		if node == d.n.name {
			continue
		}
		_, err := kvTry(ctx, func(ctx context.Context) (jetstream.KeyValueEntry, error) { return d.nodes.Get(ctx, node) })
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return false, err
		}
	}
	return true, nil
}

// keyID names one of a node's keys: a node restarted with a new key still
// has its earlier messages verified with the old one.
func keyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:8])
}

// publishKey records this node's public key in the key bucket
// (CAXTON_<cluster>_KEYS, key "<node>.<key id>", no TTL): messages a node
// sent stay verifiable after it died, for whoever takes its agents over.
func (d *directory) publishKey(ctx context.Context) error {
	pub := d.n.PublicKey()
	_, err := d.keys.Put(ctx, d.n.name+"."+keyID(pub), pub)
	return err
}

// errNoKey: the key bucket has no such key (a forgery, or garbage).
var errNoKey = errors.New("no such node key")

// keyOf returns the public key a node signed with, from the cache or the
// key bucket. errNoKey means it does not exist; any other error is NATS
// out of reach (the message should be retried, not refused).
func (d *directory) keyOf(node, kid string) (ed25519.PublicKey, error) {
	k := node + "." + kid
	d.mu.RLock()
	pub, ok := d.keyCache[k]
	d.mu.RUnlock()
	if ok {
		return pub, nil
	}
	ctx, cancel := context.WithTimeout(d.n.ctx, d.n.cfg.sendTimeout)
	defer cancel()
	e, err := d.keys.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return nil, errNoKey
	}
	if err != nil {
		return nil, err
	}
	if len(e.Value()) != ed25519.PublicKeySize || keyID(e.Value()) != kid {
		return nil, errNoKey
	}
	pub = ed25519.PublicKey(e.Value())
	d.mu.Lock()
	d.keyCache[k] = pub
	d.mu.Unlock()
	return pub, nil
}

// lookup returns an agent's record from the cache.
func (d *directory) lookup(name acl.AgentID) (AgentRecord, bool) {
	d.mu.RLock()
	r, ok := d.agentRecs[name]
	d.mu.RUnlock()
	return r, ok
}

// resolve is lookup that, on a miss, asks the bucket: an agent spawned on
// another node a moment ago is reachable before the watcher brings its
// entry (a Send right after a remote Spawn must not fail). A name nobody
// has costs one round trip to JetStream, bounded by WithSendTimeout.
func (d *directory) resolve(name acl.AgentID) (AgentRecord, bool) {
	if r, ok := d.lookup(name); ok {
		return r, true
	}
	if name.Validate() != nil || d.n.closed.Load() {
		return AgentRecord{}, false
	}
	ctx, cancel := context.WithTimeout(d.n.ctx, d.n.cfg.sendTimeout)
	defer cancel()
	e, err := d.agents.Get(ctx, token(name))
	if err != nil {
		return AgentRecord{}, false
	}
	d.applyAgent(e)
	return d.lookup(name)
}

// mayspeak reports whether node may speak for sender: sender is not an
// agent of the directory (an inbox, the host, the system name), or node
// hosts one of its replicas. When the cache says no, the bucket is asked
// once: an agent spawned on node a moment ago may speak before the watcher
// brings its placement here, and a refusal is final (the message is
// rejected, not retried).
func (d *directory) mayspeak(node string, sender acl.AgentID) bool {
	r, ok := d.lookup(sender)
	if !ok {
		return true
	}
	if _, hosts := r.Placements[node]; hosts {
		return true
	}
	if d.n.closed.Load() {
		return false
	}
	ctx, cancel := context.WithTimeout(d.n.ctx, d.n.cfg.sendTimeout)
	defer cancel()
	e, err := d.agents.Get(ctx, token(sender))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return true // removed everywhere: no longer an agent of the directory
	}
	if err != nil {
		return false
	}
	d.applyAgent(e)
	r, _ = d.lookup(sender)
	_, hosts := r.Placements[node]
	return hosts
}

// placesOn reports whether any agent of the directory is placed on node.
func (d *directory) placesOn(node string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, r := range d.agentRecs {
		if _, ok := r.Placements[node]; ok {
			return true
		}
	}
	return false
}

// entries returns the directory as this node sees it, sorted by name.
func (d *directory) entries() []AgentEntry {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]AgentEntry, 0, len(d.agentRecs))
	for _, r := range d.agentRecs {
		e := AgentEntry{AgentRecord: r}
		for node := range r.Placements {
			if d.aliveLocked(node) {
				e.Live = append(e.Live, node)
			}
		}
		slices.Sort(e.Live)
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b AgentEntry) int { return strings.Compare(string(a.Name), string(b.Name)) })
	return out
}

// placers returns the nodes with a current lease and a placement hook,
// sorted.
func (d *directory) placers() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []string
	for node, r := range d.nodeRecs {
		if r.Placement && d.aliveLocked(node) {
			out = append(out, node)
		}
	}
	slices.Sort(out)
	return out
}

// liveNodes returns the nodes with a current lease, sorted.
func (d *directory) liveNodes() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []string
	for node := range d.nodeRecs {
		if d.aliveLocked(node) {
			out = append(out, node)
		}
	}
	slices.Sort(out)
	return out
}

// reindex rebuilds the topic and capability indexes: agents of other
// nodes only (an agent with a replica here is served locally).
func (d *directory) reindex() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.dirty {
		return
	}
	d.byTopic, d.byCap = map[string][]caxton.Remote{}, map[string][]acl.AgentID{}
	for name, r := range d.agentRecs {
		if _, here := r.Placements[d.n.name]; here {
			continue
		}
		topics := map[string]bool{}
		for _, p := range r.Placements {
			for _, t := range p.Topics {
				topics[t] = true
			}
		}
		for t := range topics {
			d.byTopic[t] = append(d.byTopic[t], agentDest{n: d.n, name: name})
		}
		for _, c := range r.Capabilities {
			d.byCap[c] = append(d.byCap[c], name)
		}
	}
	d.dirty = false
}

func (d *directory) topicSubscribers(topic string) []caxton.Remote {
	d.reindex()
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.byTopic[topic]
}

func (d *directory) capable(capability string) []acl.AgentID {
	d.reindex()
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Clone(d.byCap[capability])
}

// fingerprint identifies an agent's declaration (see AgentRecord).
func fingerprint(spec caxton.AgentSpec) string {
	h := sha256.New()
	kind := "native"
	if spec.Wasm != nil {
		kind = "wasm"
	}
	fmt.Fprintf(h, "%s\x00", kind)
	if w := spec.Wasm; w != nil {
		h.Write(w.Module)
		fmt.Fprintf(h, "\x00%s\x00%s\x00", w.WAT, w.File)
	}
	caps, topics := slices.Clone(spec.Capabilities), slices.Clone(spec.Topics)
	slices.Sort(caps)
	slices.Sort(topics)
	fmt.Fprintf(h, "%q\x00%q", caps, topics)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// claim records that this node hosts spec's agent: a new name, a takeover
// of a name whose nodes are all down, or more replicas of the same agent.
func (d *directory) claim(ctx context.Context, spec caxton.AgentSpec) error {
	key, fp := token(spec.Name), fingerprint(spec)
	place := Placement{Replicas: max(spec.Replicas, 1), State: caxton.StateRunning.String(), Topics: slices.Clone(spec.Topics)}
	for attempt := 0; ; attempt++ {
		e, err := kvTry(ctx, func(ctx context.Context) (jetstream.KeyValueEntry, error) { return d.agents.Get(ctx, key) })
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			rec := AgentRecord{Name: spec.Name, Fingerprint: fp, Capabilities: spec.Capabilities, Placements: map[string]Placement{d.n.name: place}}
			b, _ := json.Marshal(rec)
			if _, err = kvTry(ctx, func(ctx context.Context) (uint64, error) { return d.agents.Create(ctx, key, b) }); err == nil {
				d.applyLocal(rec)
				return nil
			}
		case err != nil:
			return err
		default:
			var rec AgentRecord
			if err := json.Unmarshal(e.Value(), &rec); err != nil {
				return fmt.Errorf("directory entry for %q is malformed: %w", spec.Name, err)
			}
			var live []string
			d.mu.RLock()
			for node := range rec.Placements {
				if node != d.n.name && d.aliveLocked(node) {
					live = append(live, node)
				}
			}
			d.mu.RUnlock()
			if len(live) > 0 && rec.Fingerprint != fp {
				slices.Sort(live)
				return fmt.Errorf("%w: %q runs on node %s (a different agent: its kind, module, capabilities or topics differ)", caxton.ErrAgentExists, spec.Name, strings.Join(live, ", "))
			}
			if len(live) > 0 && d.n.placingHere(spec.Name) {
				slices.Sort(live)
				return fmt.Errorf("%w: %q was placed on node %s first", caxton.ErrAgentExists, spec.Name, strings.Join(live, ", "))
			}
			if len(live) == 0 { // a takeover: the former nodes are down or gone
				var others []string
				for node := range rec.Placements {
					if node != d.n.name {
						others = append(others, node)
					}
				}
				down, err := d.confirmDown(ctx, others)
				if err != nil {
					return fmt.Errorf("checking the leases of %v: %w", others, err)
				}
				if !down {
					return fmt.Errorf("%w: %q runs on node %s (its lease is current)", caxton.ErrAgentExists, spec.Name, strings.Join(others, ", "))
				}
				if len(rec.Placements) > 0 {
					d.n.logger.Info("cluster: taking over an agent whose nodes are down", "agent", spec.Name, "former", keys(rec.Placements))
				}
				rec.Placements = map[string]Placement{}
				rec.Fingerprint, rec.Capabilities = fp, spec.Capabilities
			}
			rec.Placements[d.n.name] = place
			b, _ := json.Marshal(rec)
			if _, err = kvTry(ctx, func(ctx context.Context) (uint64, error) { return d.agents.Update(ctx, key, b, e.Revision()) }); err == nil {
				d.applyLocal(rec)
				return nil
			}
		}
		if attempt >= 20 || !isConflict(err) {
			return fmt.Errorf("recording %q in the directory: %w", spec.Name, err)
		}
	}
}

// update changes this node's placement of name with fn (remove: fn
// returns false). An entry left with no placement is deleted when drop is
// set (Remove), and kept otherwise (Close: its queue waits for a Spawn).
func (d *directory) update(ctx context.Context, name acl.AgentID, drop bool, fn func(p *Placement) bool) error {
	key := token(name)
	for attempt := 0; ; attempt++ {
		e, err := kvTry(ctx, func(ctx context.Context) (jetstream.KeyValueEntry, error) { return d.agents.Get(ctx, key) })
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var rec AgentRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return err
		}
		p, ok := rec.Placements[d.n.name]
		if !ok {
			return nil // another node took it over
		}
		if fn(&p) {
			rec.Placements[d.n.name] = p
		} else {
			delete(rec.Placements, d.n.name)
		}
		if len(rec.Placements) == 0 && drop {
			_, err = kvTry(ctx, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, d.agents.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
			})
		} else {
			b, _ := json.Marshal(rec)
			_, err = kvTry(ctx, func(ctx context.Context) (uint64, error) { return d.agents.Update(ctx, key, b, e.Revision()) })
		}
		if err == nil {
			return nil
		}
		if attempt >= 20 || !isConflict(err) {
			return err
		}
	}
}

// applyLocal puts a record this node just wrote into its own cache, so
// routing sees it before the watcher echoes it.
func (d *directory) applyLocal(r AgentRecord) {
	d.mu.Lock()
	d.agentRecs[r.Name] = r
	d.dirty = true
	d.mu.Unlock()
}

func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) || errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// kvAttempt bounds one directory request: a JetStream API answer lost in a
// NATS server's death or a leader election would otherwise be waited for
// as long as the caller's context lasts.
const kvAttempt = 2 * time.Second

// kvTry runs a directory operation in attempts of kvAttempt, again after
// a timeout or no responders, until ctx ends.
func kvTry[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, kvAttempt)
		v, err := f(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !transient(err) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// transient reports whether a NATS error may go away by itself: a lost
// answer, or JetStream saying its cluster is not ready yet (forming, a
// leader election, a server restarting).
func transient(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == errCodeNoPeers || apiErr.ErrorCode == errCodeClusterNotAvailable) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders)
}

// JetStream API error codes nats.go has no names for: "no suitable peers
// for placement" and "JetStream system temporarily unavailable".
const (
	errCodeNoPeers             jetstream.ErrorCode = 10005
	errCodeClusterNotAvailable jetstream.ErrorCode = 10008
)
