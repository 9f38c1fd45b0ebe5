package cluster

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

// Orphan is an agent of the directory that no live node hosts: its nodes
// died (their leases ended) or closed. Its messages wait in its JetStream
// queue until it is spawned again somewhere.
type Orphan struct {
	Name         acl.AgentID
	Capabilities []string
	// Former lists the nodes that hosted it when their leases ended
	// (sorted; empty when they closed gracefully and withdrew).
	Former []string
}

// PlacementFunc is the placement hook (WithPlacement): it returns the
// agent to spawn on this node in place of an orphan, or false to leave it
// unplaced. The spec's Name must be the orphan's. ctx ends after
// WithSendTimeout, or when the node closes.
type PlacementFunc func(ctx context.Context, o Orphan) (caxton.AgentSpec, bool)

// WithPlacement sets the placement hook: when an agent is left without a
// live node, one surviving node — chosen by rendezvous hashing of the
// agent's name over the nodes with a current lease, so every node picks
// the same one without talking to the others — asks its hook for the
// agent and spawns it, taking over its queue. Nodes without a hook are
// never chosen. A hook that declines, or a Spawn that fails, is logged and
// asked again on the next heartbeat (a third of the lease). Without a hook
// (the default), the host spawns orphans itself (Node.Orphans lists them).
//
// The hook decides what runs (the handler is Go code only the host has);
// the cluster decides where, and makes sure one node takes the agent: a
// placement Spawn refuses with caxton.ErrAgentExists if another node got
// there first, instead of adding a replica.
func WithPlacement(fn PlacementFunc) Option {
	return func(c *config) error {
		if fn == nil {
			return configErr("WithPlacement", "nil function")
		}
		c.placement = fn
		return nil
	}
}

// Orphans returns the agents of the directory that no live node hosts, as
// this node sees them, sorted by name.
func (n *Node) Orphans() []Orphan {
	d := n.dir
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []Orphan
	for name, r := range d.agentRecs {
		alive := false
		for node := range r.Placements {
			if d.aliveLocked(node) {
				alive = true
				break
			}
		}
		if !alive {
			out = append(out, Orphan{Name: name, Capabilities: slices.Clone(r.Capabilities), Former: keys(r.Placements)})
		}
	}
	slices.SortFunc(out, func(a, b Orphan) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// chosen reports whether this node is the one that places name: the live
// node with a placement hook whose hash with name is highest.
func (n *Node) chosen(name acl.AgentID, candidates []string) bool {
	return rendezvous(token(name), candidates) == n.name
}

// rendezvous picks one of candidates for key: the one whose FNV-64a hash
// with key is highest (ties to the smaller name), so every node picks the
// same from the same candidates, and removing one moves only its keys.
func rendezvous(key string, candidates []string) string {
	best, bestScore := "", uint64(0)
	for _, node := range candidates {
		h := fnv.New64a()
		h.Write([]byte(key))
		h.Write([]byte{0})
		h.Write([]byte(node))
		if s := h.Sum64(); best == "" || s > bestScore || s == bestScore && node < best {
			best, bestScore = node, s
		}
	}
	return best
}

// placeLoop looks for orphans every third of the lease (a node's death is
// seen within a lease, by the watcher or the heartbeat's sweep). It runs
// beside the heartbeat, never on it: a Spawn (a wasm module compiling) must
// not delay the lease.
func (n *Node) placeLoop() {
	defer n.wg.Done()
	ctx, cancel := context.WithCancel(n.ctx)
	defer cancel()
	go func() {
		select {
		case <-n.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(n.cfg.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.placeOrphans(ctx)
	}
}

// placeOrphans runs the placement hook for the orphans this node is
// chosen for.
func (n *Node) placeOrphans(ctx context.Context) {
	fn := n.cfg.placement
	if n.closed.Load() {
		return
	}
	orphans := n.Orphans()
	if len(orphans) == 0 {
		return
	}
	candidates := n.dir.placers()
	if !slices.Contains(candidates, n.name) {
		candidates = append(candidates, n.name)
	}
	rt := n.link.Runtime()
	for _, o := range orphans {
		if !n.chosen(o.Name, candidates) {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if err := n.place(ctx, rt, fn, o); err != nil {
			n.logger.Warn("cluster: placing an orphaned agent failed; asking again on the next heartbeat", "agent", o.Name, "former", o.Former, "error", err)
		}
	}
}

// errDeclined: the hook left the orphan unplaced.
var errDeclined = errors.New("the placement hook declined it")

func (n *Node) place(ctx context.Context, rt *caxton.Runtime, fn PlacementFunc, o Orphan) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.sendTimeout)
	defer cancel()
	spec, ok := fn(ctx, o)
	if !ok {
		return errDeclined
	}
	if spec.Name != o.Name {
		return fmt.Errorf("the placement hook returned agent %q for %q", spec.Name, o.Name)
	}
	n.hmu.Lock()
	if n.hosted[o.Name] != nil {
		n.hmu.Unlock()
		return nil // spawned here meanwhile (by the host)
	}
	n.placing[o.Name] = true
	n.hmu.Unlock()
	defer func() {
		n.hmu.Lock()
		delete(n.placing, o.Name)
		n.hmu.Unlock()
	}()
	start := time.Now()
	if err := rt.Spawn(ctx, spec); err != nil {
		return err
	}
	n.logger.Info("cluster: placed an orphaned agent here", "agent", o.Name, "former", o.Former, "took", time.Since(start))
	return nil
}

// placingHere reports whether a Spawn of name is this node's placement of
// an orphan (which must not become a replica beside a live one).
func (n *Node) placingHere(name acl.AgentID) bool {
	n.hmu.Lock()
	defer n.hmu.Unlock()
	return n.placing[name]
}
