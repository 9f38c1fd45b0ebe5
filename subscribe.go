package caxton

import (
	"context"
	"strconv"

	"github.com/caxton-go/caxton/acl"
)

// Subscription is a host callback subscribed to a topic with SubscribeFunc.
type Subscription struct {
	rt    *Runtime
	a     *agent
	topic string
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
	if err := rt.hostEnter(); err != nil {
		return nil, err
	}
	defer rt.hostExit()
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
	if err := rt.spawn(context.Background(), spec, true); err != nil {
		return nil, err
	}
	ep, _ := rt.lookup(name)
	a := ep.(*agent)
	rt.bus.subscribe(topic, a)
	return &Subscription{rt: rt, a: a, topic: topic}, nil
}

// Topic returns the subscribed topic.
func (s *Subscription) Topic() string { return s.topic }

// Unsubscribe stops the callback after the message it is handling, waiting
// up to ctx. Messages still queued for it are dead-lettered.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	return s.rt.remove(ctx, s.a)
}
