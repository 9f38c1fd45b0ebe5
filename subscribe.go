package caxton

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/caxton-go/caxton/acl"
)

func (b *routing) subscribe(topic string, ep endpoint) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.topics.Load()
	if slices.Contains(old[topic], ep) {
		return
	}
	next := make(map[string][]endpoint, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[topic] = append(slices.Clip(old[topic]), ep)
	b.topics.Store(&next)
}

func (b *routing) unsubscribe(topic string, ep endpoint) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.topics.Load()
	i := slices.Index(old[topic], ep)
	if i < 0 {
		return false
	}
	next := make(map[string][]endpoint, len(old))
	for k, v := range old {
		next[k] = v
	}
	next[topic] = slices.Delete(slices.Clone(old[topic]), i, i+1)
	if len(next[topic]) == 0 {
		delete(next, topic)
	}
	b.topics.Store(&next)
	return true
}

func (b *routing) unsubscribeAll(ep endpoint) {
	for _, t := range b.topicsOf(ep) {
		b.unsubscribe(t, ep)
	}
}

func (b *routing) topicsOf(ep endpoint) []string {
	var out []string
	for t, subs := range *b.topics.Load() {
		if slices.Contains(subs, ep) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// Subscribe subscribes an agent or inbox to topic: messages addressed to
// acl.Topic(topic) reach it. Subscribing twice is a no-op. For a host
// callback, use SubscribeFunc. After Close it returns ErrClosed.
func (rt *Runtime) Subscribe(topic string, name acl.AgentID) error {
	if err := acl.Topic(topic).Validate(); err != nil {
		return err
	}
	if err := rt.shutdown.enter(); err != nil {
		return err
	}
	defer rt.shutdown.exit()
	ep, err := rt.endpointNamed(name)
	if err != nil {
		return err
	}
	sub := Subject{Kind: SubjectInbox, Name: string(name)}
	if a, ok := ep.(*agent); ok {
		sub = Subject{Kind: SubjectAgent, Name: string(name), Roles: a.spec.Roles, Wasm: a.version().wasm != nil}
	}
	if err := rt.authorizeSubscribe(context.Background(), sub, topic); err != nil {
		return err
	}
	rt.bus.subscribe(topic, ep)
	return nil
}

// Unsubscribe removes an agent's or inbox's subscription to topic. After
// Close it returns ErrClosed.
func (rt *Runtime) Unsubscribe(topic string, agent acl.AgentID) error {
	if err := rt.shutdown.enter(); err != nil {
		return err
	}
	defer rt.shutdown.exit()
	ep, err := rt.endpointNamed(agent)
	if err != nil {
		return err
	}
	if !rt.bus.unsubscribe(topic, ep) {
		return fmt.Errorf("%w: %q is not subscribed to topic %q", ErrAgentNotFound, agent, topic)
	}
	return nil
}

// SubscribeFunc calls fn for every message published to topic. The callback
// runs on its own worker — one message at a time, in order — and gets the
// same guarantees as an agent: an error or panic is retried with the default
// DeliveryPolicy, then dead-lettered.
func (rt *Runtime) SubscribeFunc(topic string, fn func(ctx context.Context, m *acl.Message) error) (*Subscription, error) {
	if err := acl.Topic(topic).Validate(); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, specErr("fn", "nil callback")
	}
	if err := rt.shutdown.enter(); err != nil {
		return nil, err
	}
	defer rt.shutdown.exit()
	if err := rt.authorizeSubscribe(context.Background(), Subject{Kind: SubjectHost}, topic); err != nil {
		return nil, err
	}
	// Internal names contain '$', which no user-chosen name can, so they
	// never collide; Agents does not list them.
	name := acl.AgentID("$sub/" + topic + "/" + strconv.FormatUint(rt.subSeq.Add(1), 10))
	spec, err := AgentSpec{
		Name: "sub",
		Handler: HandlerFunc(func(ctx context.Context, mc *MessageContext) error {
			return fn(ctx, mc.Message())
		}),
	}.withDefaults()
	if err != nil {
		return nil, err
	}
	spec.Name = name
	if err := rt.spawn(context.Background(), spec, true, nil); err != nil {
		return nil, err
	}
	ep, _ := rt.lookup(name)
	a := ep.(*agent)
	rt.bus.subscribe(topic, a)
	return &Subscription{rt: rt, a: a, topic: topic}, nil
}

// Subscription is a host callback subscribed to a topic with SubscribeFunc.
type Subscription struct {
	rt    *Runtime
	a     *agent
	topic string
}

// Topic returns the subscribed topic.
func (s *Subscription) Topic() string { return s.topic }

// Unsubscribe stops the callback after the message it is handling, waiting
// up to ctx. Messages still queued for it are dead-lettered.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	return s.rt.remove(ctx, s.a)
}
