package caxton_test

import (
	"context"
	"crypto/sha256"
	"math"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/telemetry"
)

// burn hashes for a while: CPU work the handler's thread does itself.
func burn(n int) byte {
	var sum [32]byte
	for range n {
		sum = sha256.Sum256(sum[:])
	}
	return sum[0]
}

// TestMeasureCPUAttributesHandlerCPUTime: an agent that computes is
// charged its CPU time; one that waits is not charged the wait; one that
// does not measure shows nothing. The figures are in AgentInfo and in the
// caxton.handler.cpu_time histogram.
func TestMeasureCPUAttributesHandlerCPUTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		rt := caxtontest.NewRuntime(t)
		err := rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: "a", MeasureCPU: true, Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { return nil })})
		require.ErrorIs(t, err, caxton.ErrInvalidSpec)
		return
	}
	o := newObserved(t)
	var sink atomic.Int32 // keeps the work from being optimised away
	busy := caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
		sink.Add(int32(burn(200_000))) // tens of milliseconds of CPU
		return nil
	})
	idle := caxton.HandlerFunc(func(ctx context.Context, _ *caxton.MessageContext) error {
		select { // blocked: its thread sleeps, and no CPU is charged
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	})
	o.MustSpawn(caxton.AgentSpec{Name: "burner", MeasureCPU: true, Handler: busy})
	o.MustSpawn(caxton.AgentSpec{Name: "sleeper", MeasureCPU: true, Handler: idle})
	o.MustSpawn(caxton.AgentSpec{Name: "unmeasured", Handler: busy})
	o.MustSpawn(caxton.AgentSpec{Name: "timed", MeasureCPU: true, Handler: busy, Delivery: caxton.DeliveryPolicy{Timeout: time.Minute}})
	ctx := caxtontest.Context(t)
	for _, to := range []acl.AgentID{"burner", "burner", "sleeper", "sleeper", "unmeasured", "timed"} {
		require.NoError(t, o.Send(ctx, acl.New(acl.Inform, to)))
	}
	// The worker charges a batch's CPU time after the batch, and counts each
	// message as it is handled, so a measured agent's figures are waited for
	// until they settle: its count, and its CPU time equal to what the
	// metric counts (a charge adds to both; on a loaded machine the test
	// read a count of two with one batch charged).
	info := func(name acl.AgentID, want uint64, measured bool) caxton.AgentInfo {
		var i caxton.AgentInfo
		caxtontest.Eventually(t, func() bool {
			var err error
			if i, err = o.Agent(name); err != nil || i.Processed != want {
				return false
			}
			return !measured || (i.CPUTime > 0 && math.Abs(i.CPUTime.Seconds()-cpuSeconds(t, o, name)) < 1e-9)
		}, string(name)+" to handle its messages, and the metric to count what AgentInfo shows")
		return i
	}
	burner, sleeper, unmeasured, timed := info("burner", 2, true), info("sleeper", 2, true), info("unmeasured", 1, false), info("timed", 1, true)

	assert.Greater(t, burner.CPUTime, 5*time.Millisecond, "two burns are charged")
	assert.Greater(t, timed.CPUTime, 2*time.Millisecond, "measured on the timeout path too")
	assert.Less(t, sleeper.CPUTime, 25*time.Millisecond, "two 50 ms waits are not CPU time")
	assert.Greater(t, burner.CPUTime, 4*sleeper.CPUTime)
	assert.Zero(t, unmeasured.CPUTime)
	assert.Zero(t, cpuSeconds(t, o, "unmeasured"))
}

// cpuSeconds reads the caxton.handler.cpu_time counter for agent.
func cpuSeconds(t *testing.T, o *observed, agent acl.AgentID) float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, o.reader.Collect(context.Background(), &rm))
	var total float64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[float64]); ok && m.Name == telemetry.MetricCPUTime {
				for _, p := range sum.DataPoints {
					if v, _ := p.Attributes.Value(telemetry.KeyDestination); v.AsString() == string(agent) {
						total += p.Value
					}
				}
			}
		}
	}
	return total
}
