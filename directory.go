package caxton

import (
	"slices"

	"github.com/caxton-go/caxton/acl"
)

// Subscribers returns the agents and inboxes subscribed to topic, sorted —
// who a message to acl.Topic(topic) reaches now. Host callbacks
// (SubscribeFunc) are not listed: they are not addressable.
func (rt *Runtime) Subscribers(topic string) []acl.AgentID {
	var out []acl.AgentID
	for _, ep := range (*rt.bus.topics.Load())[topic] {
		if !isInternal(ep) {
			out = append(out, ep.name())
		}
	}
	slices.Sort(out)
	return out
}

// Capable returns the agents that advertise capability
// (AgentSpec.Capabilities), sorted, whatever their state: a stopped agent's
// messages wait in its mailbox.
func (rt *Runtime) Capable(capability string) []acl.AgentID {
	var out []acl.AgentID
	for _, a := range rt.agentsSnapshot() {
		if !a.internal && slices.Contains(a.spec.Capabilities, capability) {
			out = append(out, a.name())
		}
	}
	slices.Sort(out)
	return out
}
