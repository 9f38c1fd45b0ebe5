package contractnet_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A participant upgraded mid-round — after it proposed, before the accept —
// completes the round: the accept answers a conversation that began before
// the upgrade, so the old version, which remembers the proposal, takes it.
// New rounds go to the new version; after the drain the old one retires.
func TestRoundCompletesAcrossAnUpgrade(t *testing.T) {
	f := newFixture(t)
	ctx := caxtontest.Context(t)
	f.spawn("carrier", offering("carrier-v1", 7))
	upgraded := make(chan error, 1)
	f.in.Select = func(sctx context.Context, r *contractnet.Round) (contractnet.Decision, error) {
		// The proposal is in; the carrier is upgraded before it is accepted.
		go func() {
			upgraded <- f.rt.Upgrade(ctx, "carrier", caxton.AgentSpec{Version: "v2", Handler: caxton.ProtocolHandler(offering("carrier-v2", 5))},
				caxton.Strategy{Drain: time.Minute})
		}()
		caxtontest.Eventually(t, func() bool {
			info, err := f.rt.Agent("carrier")
			return err == nil && info.Rollout != nil && info.Rollout.Share == 100
		}, "new conversations going to v2")
		return contractnet.LowestCost(1)(sctx, r)
	}
	res, err := f.in.Run(ctx, f.cfp(time.Second, "carrier"))
	require.NoError(t, err)
	require.Len(t, res.Outcomes, 1)
	assert.Equal(t, contractnet.Informed, res.Outcomes[0].Status)
	assert.Equal(t, "carrier-v1 did task", string(res.Outcomes[0].Result()))

	f.in.Select = contractnet.LowestCost(1)
	res, err = f.in.Run(ctx, f.cfp(time.Second, "carrier"))
	require.NoError(t, err)
	require.Len(t, res.Outcomes, 1)
	assert.Equal(t, "carrier-v2 did task", string(res.Outcomes[0].Result()))

	f.rt.AdvanceWhenWaiting(1, time.Minute) // the drain
	require.NoError(t, <-upgraded)
	info, err := f.rt.Agent("carrier")
	require.NoError(t, err)
	assert.Equal(t, "v2", info.Version)
}
