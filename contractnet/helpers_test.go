package contractnet_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/require"
)

// fixture is a fake-clock runtime with an initiator inbox, its client, and
// an Initiator whose OnEvent records into ev.
type fixture struct {
	t  *testing.T
	rt *caxtontest.Runtime
	ib *caxton.Inbox
	cl *protocol.Client
	ev *events
	in *contractnet.Initiator
}

const initiatorName acl.AgentID = "initiator"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rt := caxtontest.NewRuntime(t)
	ib, err := rt.NewInbox(initiatorName)
	require.NoError(t, err)
	cl := protocol.NewClient(ib)
	t.Cleanup(func() { _ = cl.Close() })
	ev := &events{}
	return &fixture{t: t, rt: rt, ib: ib, cl: cl, ev: ev,
		in: &contractnet.Initiator{Client: cl, Directory: rt.Runtime, OnEvent: ev.add}}
}

// cfp returns a call for proposals to receivers, due in d on the fake clock.
func (f *fixture) cfp(d time.Duration, receivers ...acl.AgentID) *acl.Message {
	m := acl.New(acl.CFP, receivers...)
	m.Content = []byte("task")
	m.ReplyBy = f.rt.Clock.Now().Add(d)
	return m
}

// start starts a negotiation or fails the test.
func (f *fixture) start(m *acl.Message) *contractnet.Negotiation {
	f.t.Helper()
	n, err := f.in.Start(caxtontest.Context(f.t), m)
	require.NoError(f.t, err)
	return n
}

// spawn makes p the handler of a new agent.
func (f *fixture) spawn(name acl.AgentID, p *contractnet.Participant, edit ...func(*caxton.AgentSpec)) {
	f.t.Helper()
	spec := caxton.AgentSpec{Name: name, Handler: caxton.ProtocolHandler(p)}
	for _, e := range edit {
		e(&spec)
	}
	f.rt.MustSpawn(spec)
}

// bidder spawns a Participant that offers cost and reports "<name> did
// <task>" as its result.
func (f *fixture) bidder(name acl.AgentID, cost float64, edit ...func(*caxton.AgentSpec)) *contractnet.Participant {
	f.t.Helper()
	p := offering(name, cost)
	f.spawn(name, p, edit...)
	return p
}

func offering(name acl.AgentID, cost float64) *contractnet.Participant {
	return &contractnet.Participant{
		Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
			return contractnet.Offer{Cost: cost}, nil
		},
		Execute: func(_ context.Context, cfp, _ *acl.Message, _ contractnet.Offer) ([]byte, error) {
			return fmt.Appendf(nil, "%s did %s", name, cfp.Content), nil
		},
	}
}

// refuser spawns a Participant that refuses with reason.
func (f *fixture) refuser(name acl.AgentID, reason string) {
	f.t.Helper()
	f.spawn(name, &contractnet.Participant{Bid: func(context.Context, *acl.Message) (contractnet.Offer, error) {
		return contractnet.Offer{}, protocol.Refuse(reason)
	}})
}

func withCaps(caps ...string) func(*caxton.AgentSpec) {
	return func(s *caxton.AgentSpec) { s.Capabilities = caps }
}

func withTopics(topics ...string) func(*caxton.AgentSpec) {
	return func(s *caxton.AgentSpec) { s.Topics = topics }
}

// processed waits until agent name has handled at least n messages.
func (f *fixture) processed(name acl.AgentID, n uint64) {
	f.t.Helper()
	caxtontest.Eventually(f.t, func() bool {
		info, err := f.rt.Agent(name)
		return err == nil && info.Processed >= n
	}, "%s to handle %d messages", name, n)
}

// parked waits until the negotiation waits on a timer due at at, with no
// earlier timer left (a phase's deadline timer is released asynchronously).
func (f *fixture) parked(at time.Time) {
	f.t.Helper()
	caxtontest.Eventually(f.t, func() bool {
		next, ok := f.rt.Clock.NextDeadline()
		return ok && next.Equal(at)
	}, "a timer due at %v", at)
}

// expire waits for the call's deadline timer and moves the clock to it.
func (f *fixture) expire(m *acl.Message) {
	f.t.Helper()
	f.parked(m.ReplyBy)
	f.rt.Clock.Set(m.ReplyBy)
}

// wait waits for the negotiation's end, bounded so a hang fails the test.
func wait(t *testing.T, n *contractnet.Negotiation) (*contractnet.Result, error) {
	t.Helper()
	select {
	case <-n.Done():
	case <-caxtontest.Context(t).Done():
		t.Fatal("the negotiation did not end")
	}
	return n.Wait()
}

// events records what an Initiator reports.
type events struct {
	mu   sync.Mutex
	list []contractnet.Event
}

func (e *events) add(ev contractnet.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) all() []contractnet.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

func (e *events) find(kind contractnet.EventKind, who acl.AgentID) (contractnet.Event, bool) {
	for _, ev := range e.all() {
		if ev.Kind == kind && (who == "" || ev.Participant == who) {
			return ev, true
		}
	}
	return contractnet.Event{}, false
}

func (e *events) count(kind contractnet.EventKind) int {
	n := 0
	for _, ev := range e.all() {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// await waits until an event of kind about who ("" for anyone) was seen.
func (e *events) await(t *testing.T, kind contractnet.EventKind, who acl.AgentID) contractnet.Event {
	t.Helper()
	var ev contractnet.Event
	caxtontest.Eventually(t, func() bool {
		var ok bool
		ev, ok = e.find(kind, who)
		return ok
	}, "event %s from %q", kind, who)
	return ev
}

// awaitN waits until n events of kind were seen.
func (e *events) awaitN(t *testing.T, kind contractnet.EventKind, n int) {
	t.Helper()
	caxtontest.Eventually(t, func() bool { return e.count(kind) >= n }, "%d %s events", n, kind)
}

// puppet is an agent that records what it receives and sends only when the
// test tells it to (do), so a test can answer late, out of order or twice.
type puppet struct {
	name acl.AgentID
	rt   *caxtontest.Runtime

	mu   sync.Mutex
	got  []*acl.Message
	acts []func(ctx context.Context, mc *caxton.MessageContext) error
}

const puppetCue = "X-Puppet-Cue"

func (f *fixture) puppet(name acl.AgentID, edit ...func(*caxton.AgentSpec)) *puppet {
	f.t.Helper()
	p := &puppet{name: name, rt: f.rt}
	spec := caxton.AgentSpec{Name: name, Handler: caxton.HandlerFunc(p.handle)}
	for _, e := range edit {
		e(&spec)
	}
	f.rt.MustSpawn(spec)
	return p
}

func (p *puppet) handle(ctx context.Context, mc *caxton.MessageContext) error {
	m := mc.Message()
	p.mu.Lock()
	if _, cue := m.Param(puppetCue); cue && m.Sender == p.rt.Inbox().Name() {
		act := p.acts[0]
		p.acts = p.acts[1:]
		p.mu.Unlock()
		return act(ctx, mc)
	}
	p.got = append(p.got, m)
	p.mu.Unlock()
	return nil
}

// do runs act on the puppet's worker, as the puppet, and waits for it.
// sendStamped sends m as the puppet with the creation time m already has.
// Agents cannot choose their messages' creation times (the runtime stamps
// them), so a sender with a skewed clock, or a message that spent time in
// transit, is played by host code, which may preset both sender and time.
func (p *puppet) sendStamped(t *testing.T, m *acl.Message) {
	t.Helper()
	require.False(t, m.CreatedAt.IsZero(), "sendStamped needs a creation time")
	m.Sender = p.name
	require.NoError(t, p.rt.Send(caxtontest.Context(t), m))
}

func (p *puppet) do(t *testing.T, act func(ctx context.Context, mc *caxton.MessageContext) error) {
	t.Helper()
	done := make(chan error, 1)
	p.mu.Lock()
	p.acts = append(p.acts, func(ctx context.Context, mc *caxton.MessageContext) error {
		done <- act(ctx, mc)
		return nil
	})
	p.mu.Unlock()
	cue := acl.New(acl.Inform, p.name)
	require.NoError(t, cue.SetParam(puppetCue, "1"))
	p.rt.MustSend(cue)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-caxtontest.Context(t).Done():
		t.Fatalf("puppet %s did not act", p.name)
	}
}

// reply makes the puppet answer to with performative perf and content.
func (p *puppet) reply(t *testing.T, to *acl.Message, perf acl.Performative, content []byte) *acl.Message {
	t.Helper()
	r := to.CreateReply(perf)
	r.Content = content
	p.do(t, func(ctx context.Context, mc *caxton.MessageContext) error { return mc.Send(ctx, r) })
	return r
}

// propose makes the puppet propose cost in answer to cfp.
func (p *puppet) propose(t *testing.T, cfp *acl.Message, cost float64) *acl.Message {
	t.Helper()
	b, err := contractnet.Offer{Cost: cost}.Encode()
	require.NoError(t, err)
	return p.reply(t, cfp, acl.Propose, b)
}

func (p *puppet) received() []*acl.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

// await waits for the n-th (1-based) message of performative perf.
func (p *puppet) awaitNth(t *testing.T, perf acl.Performative, n int) *acl.Message {
	t.Helper()
	var m *acl.Message
	caxtontest.Eventually(t, func() bool {
		seen := 0
		for _, g := range p.received() {
			if g.Performative == perf {
				if seen++; seen == n {
					m = g
					return true
				}
			}
		}
		return false
	}, "%s to receive %s #%d", p.name, perf, n)
	return m
}

func (p *puppet) await(t *testing.T, perf acl.Performative) *acl.Message {
	t.Helper()
	return p.awaitNth(t, perf, 1)
}

func (p *puppet) count(perf acl.Performative) int {
	n := 0
	for _, g := range p.received() {
		if g.Performative == perf {
			n++
		}
	}
	return n
}

// names returns the participants of proposals, in order.
func names(ps []contractnet.Proposal) []acl.AgentID {
	out := make([]acl.AgentID, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.From)
	}
	return out
}

func ids(s ...string) []acl.AgentID {
	out := make([]acl.AgentID, len(s))
	for i, x := range s {
		out[i] = acl.AgentID(x)
	}
	return out
}
