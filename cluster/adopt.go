package cluster

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// mailConsumer is the configuration of node's mail consumer (or the
// park's): durable, explicit ack, unbounded deliveries (the agent's own
// retry policy decides when to give up), WithMaxAckPending frames handed
// out and not yet acknowledged.
func (n *Node) mailConsumer(node string) jetstream.ConsumerConfig {
	desc := "Caxton node " + node + "'s mail"
	if node == parkNode {
		desc = "Caxton mail for agents no node hosts"
	}
	return jetstream.ConsumerConfig{
		Durable:       nodeConsumer(node),
		Description:   desc,
		FilterSubject: n.lay.mailSubject(node), // the node's own subject, nothing else
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       n.cfg.ackWait,
		MaxDeliver:    -1,
		MaxAckPending: n.cfg.maxAckPending,
		Replicas:      n.replicas,
	}
}

// consume starts taking frames from cons for origin's mail.
func (n *Node) consume(cons jetstream.Consumer, origin string) (jetstream.ConsumeContext, error) {
	return cons.Consume(n.consumeMail(origin),
		jetstream.PullMaxMessages(min(n.cfg.maxAckPending, 512)),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !errors.Is(err, jetstream.ErrNoHeartbeat) || n.closed.Load() {
				n.logger.Debug("cluster: mail consumer", "origin", origin, "error", err)
			}
		}))
}

// adopt makes sure that the mail of nodes without a lease (dead, or
// closed) and the park are consumed: each by one live node, the one
// rendezvous hashing of its name over the live nodes picks. The adopter
// routes what it takes like any frame for an agent not hosted here
// (Node.elsewhere): on to the agent's live node, or back after a while
// while its agent awaits a takeover. Two nodes adopting one consumer for a
// moment (their views of the leases differ) share it; nothing is taken
// twice. It runs on every heartbeat.
func (n *Node) adopt(ctx context.Context) {
	live := n.Nodes()
	want := map[string]bool{}
	if rendezvous("adopt", live) == n.name {
		want[parkNode] = true
	}
	names := n.stream.ConsumerNames(ctx)
	for name := range names.Name() {
		node := consumerNode(name)
		if node == "" || node == parkNode || node == n.name || slices.Contains(live, node) {
			continue
		}
		if rendezvous("adopt\x00"+node, live) == n.name {
			want[node] = true
		}
	}
	if err := names.Err(); err != nil {
		n.logger.Debug("cluster: listing the mail consumers", "error", err)
		return
	}
	n.amu.Lock()
	defer n.amu.Unlock()
	if n.adoptClosed {
		return
	}
	for node, a := range n.adopted {
		switch {
		case !want[node]:
			a.cc.Stop()
			delete(n.adopted, node)
			n.logger.Info("cluster: no longer serving another node's mail", "node", node)
		case n.retirable(ctx, node, a):
			a.cc.Stop()
			delete(n.adopted, node)
			if err := n.js.DeleteConsumer(ctx, n.lay.stream, nodeConsumer(node)); err != nil {
				n.logger.Warn("cluster: retiring a dead node's mail consumer", "node", node, "error", err)
				continue // served again on the next beat, retired on a later one
			}
			n.logger.Info("cluster: retired the mail consumer of a node gone for good", "node", node, "served", time.Since(a.since).Round(time.Second))
		}
	}
	for node := range want {
		if n.adopted[node] != nil {
			continue
		}
		cons, err := n.js.Consumer(ctx, n.lay.stream, nodeConsumer(node))
		if err != nil {
			n.logger.Debug("cluster: adopting a mail consumer", "node", node, "error", err)
			continue
		}
		cc, err := n.consume(cons, node)
		if err != nil {
			n.logger.Debug("cluster: adopting a mail consumer", "node", node, "error", err)
			continue
		}
		n.adopted[node] = &adoption{cons: cons, cc: cc, since: time.Now()}
		if node != parkNode {
			n.logger.Info("cluster: serving the mail of a node without a lease", "node", node)
		}
	}
}

// stopAdopted stops every adopted consumer, for good.
func (n *Node) stopAdopted() {
	n.amu.Lock()
	defer n.amu.Unlock()
	n.adoptClosed = true
	for node, a := range n.adopted {
		a.cc.Stop()
		delete(n.adopted, node)
	}
}

// adoption is another node's (or the park's) mail this node serves.
type adoption struct {
	cons  jetstream.Consumer
	cc    jetstream.ConsumeContext
	since time.Time // when this node began serving it
}

// retirable reports whether the adopted consumer of a node without a
// lease may be deleted (WithDeadNodeRetention): served here for the
// retention, holding no message (none waiting, none handed out), no agent
// placed on the node in the directory, and its lease confirmed gone by
// the bucket itself (not the cache: the node may be starting again).
func (n *Node) retirable(ctx context.Context, node string, a *adoption) bool {
	if node == parkNode || n.cfg.retireAfter == 0 || time.Since(a.since) < n.cfg.retireAfter || n.dir.placesOn(node) {
		return false
	}
	info, err := a.cons.Info(ctx)
	if err != nil || info.NumPending > 0 || info.NumAckPending > 0 {
		return false
	}
	down, err := n.dir.confirmDown(ctx, []string{node})
	return err == nil && down
}
