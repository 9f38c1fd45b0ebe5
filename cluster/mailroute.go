package cluster

import (
	"context"
	"fmt"

	"github.com/caxton-go/caxton/acl"
)

// Where mail goes, from the directory's view: the node a sender publishes
// to (home), where a node passes on a frame for an agent it does not host
// (route), and what a restarted node gives up (withdrawStale). See
// docs/design.md, "Which node gets a message".

// home is the node whose mail subject a message from this node to name
// goes to: among the live nodes hosting it, the one rendezvous hashing of
// the agent and this node picks (all of this node's messages to the agent
// go to one node, which keeps them in order, while other nodes' spread
// over its replicas); if none is live, one of its dead nodes (the frames
// wait there for a takeover); if no node hosts it, the park.
func (d *directory) home(name acl.AgentID) string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r, ok := d.agentRecs[name]
	if !ok || len(r.Placements) == 0 {
		return parkNode
	}
	if len(r.Placements) == 1 { // live or not, the one node (the common case: no hashing, no allocation per message)
		for node := range r.Placements {
			return node
		}
	}
	var live, all []string
	for node := range r.Placements {
		all = append(all, node)
		if d.aliveLocked(node) {
			live = append(live, node)
		}
	}
	if len(live) == 0 {
		live = all
	}
	return rendezvous(token(name)+"\x00"+d.n.name, live)
}

// route says where a frame for name, taken from origin's mail (this
// node's own, an adopted dead node's, or the park) and not for an agent
// hosted here, goes: target, a live node other than this one hosting it;
// or, with no target, wait (it should come again later: its agent is
// being spawned or removed here, or awaits the takeover of origin's
// agents). Neither: no node hosts it.
func (d *directory) route(name acl.AgentID, origin string) (target string, wait bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r, ok := d.agentRecs[name]
	if !ok {
		return "", false
	}
	var live []string
	for node := range r.Placements {
		if node != d.n.name && d.aliveLocked(node) {
			live = append(live, node)
		}
	}
	if len(live) > 0 {
		return rendezvous(token(name)+"\x00"+d.n.name, live), false
	}
	_, here := r.Placements[d.n.name]
	_, there := r.Placements[origin]
	return "", here || there && origin != parkNode
}

// withdrawStale removes this node's name from the directory's placements
// when it starts: they are a former process's (the node restarted), which
// hosted agents this one does not (yet). Their mail goes on to wherever
// they are spawned again.
func (d *directory) withdrawStale(ctx context.Context) error {
	d.mu.RLock()
	var stale []acl.AgentID
	for name, r := range d.agentRecs {
		if _, ok := r.Placements[d.n.name]; ok {
			stale = append(stale, name)
		}
	}
	d.mu.RUnlock()
	for _, name := range stale {
		if err := d.update(ctx, name, false, func(*Placement) bool { return false }); err != nil {
			return fmt.Errorf("withdrawing the former placement of %q: %w", name, err)
		}
		d.n.logger.Info("cluster: withdrew a placement left by this node's former process", "agent", name)
	}
	return nil
}
