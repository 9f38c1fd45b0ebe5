package mcpserver_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/protocol"
)

type srvCNetProposal struct {
	Participant string         `json:"participant"`
	Round       int            `json:"round"`
	Cost        *float64       `json:"cost"`
	Score       *float64       `json:"score"`
	Detail      map[string]any `json:"detail"`
	Content     string         `json:"content"`
}

type srvCNetDecline struct {
	Participant string `json:"participant"`
	Reason      string `json:"reason"`
}

type srvCNetWinner struct {
	Participant string   `json:"participant"`
	Cost        *float64 `json:"cost"`
	Status      string   `json:"status"`
	Result      string   `json:"result"`
	Reason      string   `json:"reason"`
}

type srvCNetResult struct {
	ConversationID string            `json:"conversation_id"`
	Rounds         int               `json:"rounds"`
	Asked          []string          `json:"asked"`
	Proposals      []srvCNetProposal `json:"proposals"`
	Refused        []srvCNetDecline  `json:"refused"`
	NotUnderstood  []srvCNetDecline  `json:"not_understood"`
	Unreachable    []srvCNetDecline  `json:"unreachable"`
	Silent         []string          `json:"silent"`
	Late           []srvCNetProposal `json:"late"`
	Winners        []srvCNetWinner   `json:"winners"`
	Violations     int               `json:"violations"`
	Error          string            `json:"error"`
}

// srvBidder spawns a Contract Net participant. offer nil refuses with
// reason; fail makes Execute fail.
func srvBidder(t *testing.T, rt *caxtontest.Runtime, name acl.AgentID, offer *contractnet.Offer, reason string, fail bool) {
	t.Helper()
	p := &contractnet.Participant{
		Bid: func(ctx context.Context, cfp *acl.Message) (contractnet.Offer, error) {
			if offer == nil {
				return contractnet.Offer{}, protocol.Refuse(reason)
			}
			return *offer, nil
		},
		Execute: func(ctx context.Context, cfp, accept *acl.Message, o contractnet.Offer) ([]byte, error) {
			if fail {
				return nil, errors.New("truck broke down")
			}
			return fmt.Appendf(nil, "%s moved %s for %.0f", name, cfp.Content, o.Cost), nil
		},
	}
	rt.MustSpawn(caxton.AgentSpec{Name: name, Capabilities: []string{"transport"}, Handler: caxton.ProtocolHandler(p)})
}

func srvF(f float64) *float64 { return &f }

func TestServerContractNetPicksTheCheapestAndReportsEveryone(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	srvBidder(t, rt, "bergen-bulk", &contractnet.Offer{Cost: 380, Detail: []byte(`{"eta":"2d"}`)}, "", false)
	srvBidder(t, rt, "fjord-freight", &contractnet.Offer{Cost: 420, Score: 0.9}, "", false)
	srvBidder(t, rt, "cyclist", nil, "too heavy", false)
	mute := caxtontest.NewRecorder(t, rt.Runtime, "mute", caxtontest.RecorderSpec(func(s *caxton.AgentSpec) {
		s.Capabilities = []string{"transport"}
	}))
	cs := srvConnect(t, rt.Runtime)

	done := make(chan *sdk.CallToolResult, 1)
	go func() {
		res, err := cs.CallTool(caxtontest.Context(t), &sdk.CallToolParams{Name: "contract_net", Arguments: map[string]any{
			"task": "12 pallets", "capability": "transport", "deadline_ms": 2000, "result_timeout_ms": 3000,
		}})
		assert.NoError(t, err)
		done <- res
	}()
	// Everyone but mute answers at once; then the deadline passes.
	mute.Await(t, acl.MatchPerformative(acl.CFP))
	for _, n := range []acl.AgentID{"bergen-bulk", "fjord-freight", "cyclist"} {
		caxtontest.Eventually(t, func() bool {
			a, err := rt.Agent(n)
			return err == nil && a.Processed >= 1
		}, "%s to answer the call", n)
	}
	rt.AdvanceWhenWaiting(1, 2*time.Second)
	res := <-done
	require.NotNil(t, res)
	got := srvOK[srvCNetResult](t, res)

	assert.NotEmpty(t, got.ConversationID)
	assert.Equal(t, 1, got.Rounds)
	assert.ElementsMatch(t, []string{"bergen-bulk", "fjord-freight", "cyclist", "mute"}, got.Asked)
	require.Len(t, got.Proposals, 2)
	byName := map[string]srvCNetProposal{}
	for _, p := range got.Proposals {
		byName[p.Participant] = p
	}
	assert.Equal(t, srvCNetProposal{Participant: "bergen-bulk", Round: 1, Cost: srvF(380), Detail: map[string]any{"eta": "2d"}}, byName["bergen-bulk"])
	assert.Equal(t, srvCNetProposal{Participant: "fjord-freight", Round: 1, Cost: srvF(420), Score: srvF(0.9)}, byName["fjord-freight"])
	assert.Equal(t, []srvCNetDecline{{Participant: "cyclist", Reason: "too heavy"}}, got.Refused)
	assert.Equal(t, []string{"mute"}, got.Silent)
	assert.Empty(t, got.Late)
	assert.Equal(t, []srvCNetWinner{{Participant: "bergen-bulk", Cost: srvF(380), Status: "informed", Result: "bergen-bulk moved 12 pallets for 380"}}, got.Winners)
	assert.Zero(t, got.Violations)
	assert.Empty(t, got.Error)

	// The call came from the server's negotiation inbox, with the deadline
	// as reply-by and the Contract Net protocol.
	cfp := mute.Messages()[0]
	assert.Equal(t, acl.AgentID("mcp/contract-net"), cfp.Sender)
	assert.Equal(t, "12 pallets", string(cfp.Content))
	assert.Equal(t, protocol.FIPAContractNet, cfp.Protocol)
	assert.Equal(t, cfp.CreatedAt.Add(2*time.Second), cfp.ReplyBy)
}

func TestServerContractNetSelectors(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	srvBidder(t, rt, "a-cheap", &contractnet.Offer{Cost: 100, Score: 0.2}, "", false)
	srvBidder(t, rt, "b-good", &contractnet.Offer{Cost: 300, Score: 0.95}, "", false)
	srvBidder(t, rt, "c-broken", &contractnet.Offer{Cost: 50, Score: 0.5}, "", true)
	rt.MustSpawn(caxton.AgentSpec{Name: "d-odd", Topics: []string{"freight"}, Handler: caxton.ProtocolHandler(&contractnet.Participant{
		Bid: func(ctx context.Context, cfp *acl.Message) (contractnet.Offer, error) {
			return contractnet.Offer{}, protocol.NotUnderstood("what is a pallet?")
		},
	})})
	cs := srvConnect(t, rt.Runtime)

	// Every participant answers, so each round ends without waiting for
	// its deadline: no clock needs advancing.
	for _, tc := range []struct {
		name    string
		args    map[string]any
		winners []srvCNetWinner
	}{
		{"lowest cost by default, failing winner",
			map[string]any{"participants": []string{"a-cheap", "b-good", "c-broken"}},
			[]srvCNetWinner{{Participant: "c-broken", Cost: srvF(50), Status: "failed", Reason: "truck broke down"}}},
		{"highest score",
			map[string]any{"participants": []string{"a-cheap", "b-good", "c-broken"}, "selector": "highest_score"},
			[]srvCNetWinner{{Participant: "b-good", Cost: srvF(300), Status: "informed", Result: "b-good moved 3 crates for 300"}}},
		{"two cheapest",
			map[string]any{"participants": []string{"a-cheap", "b-good"}, "selector": "lowest_cost", "n": 2},
			[]srvCNetWinner{
				{Participant: "a-cheap", Cost: srvF(100), Status: "informed", Result: "a-cheap moved 3 crates for 100"},
				{Participant: "b-good", Cost: srvF(300), Status: "informed", Result: "b-good moved 3 crates for 300"}}},
		{"first bid", map[string]any{"participants": []string{"b-good"}, "selector": "first_n"},
			[]srvCNetWinner{{Participant: "b-good", Cost: srvF(300), Status: "informed", Result: "b-good moved 3 crates for 300"}}},
		{"survey accepts nobody", map[string]any{"capability": "transport", "selector": "none"}, []srvCNetWinner{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.args["task"] = "3 crates"
			got := srvOK[srvCNetResult](t, srvCall(t, cs, "contract_net", tc.args))
			assert.ElementsMatch(t, tc.winners, got.Winners)
			assert.Empty(t, got.Silent)
		})
	}

	t.Run("topic, not understood and unreachable", func(t *testing.T) {
		got := srvOK[srvCNetResult](t, srvCall(t, cs, "contract_net", map[string]any{
			"task": "3 crates", "topic": "freight", "participants": []string{"a-cheap", "ghost"},
		}))
		assert.ElementsMatch(t, []string{"a-cheap", "ghost", "d-odd"}, got.Asked)
		assert.Equal(t, []srvCNetDecline{{Participant: "d-odd", Reason: "what is a pallet?"}}, got.NotUnderstood)
		require.Len(t, got.Unreachable, 1)
		assert.Equal(t, "ghost", got.Unreachable[0].Participant)
		assert.Contains(t, got.Unreachable[0].Reason, "agent not found")
		assert.Equal(t, "a-cheap", got.Winners[0].Participant)
	})
}

func TestServerContractNetWinnerSilentTimesOut(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	rt.MustSpawn(caxton.AgentSpec{Name: "slow", Handler: caxton.ProtocolHandler(&contractnet.Participant{
		Bid: func(ctx context.Context, cfp *acl.Message) (contractnet.Offer, error) {
			return contractnet.Offer{Cost: 1}, nil
		},
		Execute: func(ctx context.Context, cfp, accept *acl.Message, o contractnet.Offer) ([]byte, error) {
			select { // works until the test ends
			case <-release:
			case <-ctx.Done():
			}
			return nil, nil
		},
	})})
	cs := srvConnect(t, rt.Runtime)

	done := make(chan *sdk.CallToolResult, 1)
	go func() {
		res, err := cs.CallTool(caxtontest.Context(t), &sdk.CallToolParams{Name: "contract_net", Arguments: map[string]any{
			"task": "x", "participants": []string{"slow"}, "result_timeout_ms": 4000,
		}})
		assert.NoError(t, err)
		done <- res
	}()
	caxtontest.Eventually(t, func() bool {
		a, err := rt.Agent("slow")
		return err == nil && a.InFlight == 1 && a.Processed == 1 // bid done, executing
	}, "the winner to start executing")
	rt.AdvanceWhenWaiting(1, 4*time.Second)
	res := <-done
	require.NotNil(t, res)
	got := srvOK[srvCNetResult](t, res)
	require.Len(t, got.Winners, 1)
	assert.Equal(t, "slow", got.Winners[0].Participant)
	assert.Equal(t, "timed out", got.Winners[0].Status)
	assert.NotEmpty(t, got.Winners[0].Reason)
}
