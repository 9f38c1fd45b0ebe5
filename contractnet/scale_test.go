package contractnet_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// price is what bidder name asks for job: a different winner per job.
func price(name acl.AgentID, job string) float64 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%s", name, job)
	return float64(h.Sum32() % 100000)
}

// Many negotiations at once on one client, sharing the same participants:
// each gets its own proposals and its own winner.
func TestConcurrentNegotiations(t *testing.T) {
	const negotiations, bidders = 50, 8
	f := newFixture(t)
	var names []acl.AgentID
	for i := range bidders {
		name := acl.AgentID(fmt.Sprint("bidder", i))
		names = append(names, name)
		f.spawn(name, &contractnet.Participant{
			Bid: func(_ context.Context, cfp *acl.Message) (contractnet.Offer, error) {
				return contractnet.Offer{Cost: price(name, string(cfp.Content))}, nil
			},
			Execute: func(_ context.Context, cfp, _ *acl.Message, _ contractnet.Offer) ([]byte, error) {
				return fmt.Appendf(nil, "%s did %s", name, cfp.Content), nil
			},
		}, withCaps("work"))
	}
	clockAt := f.rt.Clock.Now()
	results := make([]*contractnet.Result, negotiations)
	errs := make([]error, negotiations)
	var wg sync.WaitGroup
	for i := range negotiations {
		wg.Go(func() {
			m := f.cfp(time.Hour, contractnet.Capability("work"))
			m.Content = []byte("job" + strconv.Itoa(i))
			results[i], errs[i] = f.in.Run(caxtontest.Context(t), m)
		})
	}
	wg.Wait()
	convs := map[string]bool{}
	for i, res := range results {
		require.NoError(t, errs[i], "negotiation %d", i)
		job := "job" + strconv.Itoa(i)
		want := names[0]
		for _, n := range names[1:] {
			if price(n, job) < price(want, job) {
				want = n
			}
		}
		require.Len(t, res.Rounds[0].Proposals, bidders, job)
		for _, p := range res.Rounds[0].Proposals {
			o, err := p.Offer()
			require.NoError(t, err)
			assert.Equal(t, price(p.From, job), o.Cost, "%s's offer for %s", p.From, job)
			assert.Equal(t, res.ConversationID, p.Message.ConversationID)
		}
		require.Len(t, res.Winners, 1, job)
		assert.Equal(t, want, res.Winners[0].From, job)
		assert.Equal(t, fmt.Sprintf("%s did %s", want, job), string(res.Outcomes[0].Result()))
		assert.Empty(t, res.Violations, job)
		assert.Empty(t, res.Late, job)
		convs[res.ConversationID] = true
	}
	assert.Len(t, convs, negotiations, "a conversation each")
	assert.Equal(t, clockAt, f.rt.Clock.Now(), "no deadline was needed")
}

// One call to a thousand participants: everyone's proposal is in, and the
// cheapest wins.
func TestThousandParticipants(t *testing.T) {
	const n = 1000
	f := newFixture(t)
	f.in.OnEvent = nil
	costs := map[acl.AgentID]float64{}
	var cheapest acl.AgentID
	for i := range n {
		name := acl.AgentID(fmt.Sprintf("p%04d", i))
		costs[name] = float64((i*7919)%n + 1) // a permutation of 1..n
		if costs[name] == 1 {
			cheapest = name
		}
	}
	p := &contractnet.Participant{ // one Participant may serve many agents
		Bid: func(_ context.Context, cfp *acl.Message) (contractnet.Offer, error) {
			return contractnet.Offer{Cost: costs[cfp.Receivers[0]]}, nil
		},
		Execute: func(context.Context, *acl.Message, *acl.Message, contractnet.Offer) ([]byte, error) {
			return []byte("won"), nil
		},
	}
	start := time.Now()
	for name := range costs {
		f.spawn(name, p, withCaps("bulk"))
	}
	spawned := time.Since(start)
	m := f.cfp(24*time.Hour, contractnet.Capability("bulk"))
	res, err := f.in.Run(caxtontest.Context(t), m)
	require.NoError(t, err)
	t.Logf("spawned %d agents in %v; negotiated in %v", n, spawned, time.Since(start)-spawned)

	r := res.Rounds[0]
	require.Len(t, r.Asked, n)
	require.Len(t, r.Proposals, n)
	seen := map[acl.AgentID]bool{}
	for _, pr := range r.Proposals {
		seen[pr.From] = true
		o, err := pr.Offer()
		require.NoError(t, err)
		require.Equal(t, costs[pr.From], o.Cost)
	}
	assert.Len(t, seen, n)
	assert.Empty(t, r.Silent)
	require.Len(t, res.Winners, 1)
	assert.Equal(t, cheapest, res.Winners[0].From)
	assert.Equal(t, "won", string(res.Outcomes[0].Result()))
	caxtontest.Eventually(t, func() bool { return p.Open() == 0 }, "every proposal to be accepted or rejected")
}

// An ended negotiation leaves a handler for stragglers with its client;
// that handler must not keep the whole negotiation (every message of every
// round) alive for the client's retention of thousands of conversations.
func TestEndedNegotiationIsNotRetained(t *testing.T) {
	f := newFixture(t)
	f.bidder("a", 1)
	wp := func() weak.Pointer[contractnet.Negotiation] {
		n := f.start(f.cfp(time.Second, "a"))
		_, err := wait(t, n)
		require.NoError(t, err)
		return weak.Make(n)
	}()
	caxtontest.Eventually(t, func() bool {
		runtime.GC()
		return wp.Value() == nil
	}, "the ended negotiation to be collected")
}
