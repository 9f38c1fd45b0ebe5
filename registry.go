package caxton

import (
	"context"
	"fmt"
	"slices"

	"github.com/caxton-go/caxton/acl"
)

// endpoint is anything a message can be queued for: an agent (including a
// host subscription) or a host inbox.
type endpoint interface {
	name() acl.AgentID
	// deliver queues m. mayBlock false forbids waiting for mailbox space
	// (an agent sending to itself would wait for its own worker forever).
	deliver(ctx context.Context, m *acl.Message, abort <-chan struct{}, mayBlock bool) error
}

func (rt *Runtime) register(ep endpoint) error {
	name := ep.name()
	if name == rt.cfg.systemName {
		return fmt.Errorf("%w: %q is the runtime's system name", ErrAgentExists, name)
	}
	rt.regMu.Lock()
	defer rt.regMu.Unlock()
	if _, ok := rt.endpoints[name]; ok {
		return fmt.Errorf("%w: %q", ErrAgentExists, name)
	}
	rt.endpoints[name] = ep
	return nil
}

func (rt *Runtime) lookup(name acl.AgentID) (endpoint, bool) {
	rt.regMu.RLock()
	ep, ok := rt.endpoints[name]
	rt.regMu.RUnlock()
	return ep, ok
}

// agent finds a user-visible agent for a host call: ErrClosed after Close,
// ErrAgentNotFound for a name no agent has.
func (rt *Runtime) agent(name acl.AgentID) (*agent, error) {
	if rt.shutdown.isClosed() {
		return nil, ErrClosed
	}
	if ep, ok := rt.lookup(name); ok {
		if a, ok := ep.(*agent); ok && !a.internal {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrAgentNotFound, name)
}

func (rt *Runtime) agentsSnapshot() []*agent {
	rt.regMu.RLock()
	defer rt.regMu.RUnlock()
	out := make([]*agent, 0, len(rt.endpoints))
	for _, ep := range rt.endpoints {
		if a, ok := ep.(*agent); ok {
			out = append(out, a)
		}
	}
	return out
}

// endpointNamed finds a user-visible agent or inbox.
func (rt *Runtime) endpointNamed(name acl.AgentID) (endpoint, error) {
	if ep, ok := rt.lookup(name); ok {
		if a, isAgent := ep.(*agent); !isAgent || !a.internal {
			return ep, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrAgentNotFound, name)
}

// isInternal reports whether ep is a hidden agent (a SubscribeFunc
// callback), which is reachable only through its topic.
func isInternal(ep endpoint) bool {
	a, ok := ep.(*agent)
	return ok && a.internal
}

// Subscribers returns the agents and inboxes subscribed to topic, sorted —
// who a message to acl.Topic(topic) reaches now, on every node of a
// cluster. Host callbacks (SubscribeFunc) are not listed: they are not
// addressable.
func (rt *Runtime) Subscribers(topic string) []acl.AgentID {
	var out []acl.AgentID
	for _, ep := range (*rt.bus.topics.Load())[topic] {
		if !isInternal(ep) {
			out = append(out, ep.name())
		}
	}
	for _, ep := range rt.remoteSubscribers(topic, nil) {
		out = append(out, ep.name())
	}
	slices.Sort(out)
	return out
}

// Capable returns the agents that advertise capability
// (AgentSpec.Capabilities), sorted, whatever their state: a stopped agent's
// messages wait in its mailbox. In a cluster (WithCluster) it includes the
// agents of the other nodes.
func (rt *Runtime) Capable(capability string) []acl.AgentID {
	var out []acl.AgentID
	for _, a := range rt.agentsSnapshot() {
		if !a.internal && slices.Contains(a.spec.Capabilities, capability) {
			out = append(out, a.name())
		}
	}
	return rt.remoteCapable(capability, out)
}
