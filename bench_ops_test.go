package caxton_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

// echoFactory makes native handlers that answer requests with "ok".
func echoFactory(context.Context, caxton.InstanceInfo) (caxton.Handler, error) {
	return caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		return mc.Reply(ctx, acl.Inform, []byte("ok"))
	}), nil
}

// opsSpec is the agent the live-operations benchmarks change: native, or
// the C echo guest.
func opsSpec(b *testing.B, kind string, replicas int) caxton.AgentSpec {
	spec := caxton.AgentSpec{Name: "ops", Replicas: replicas}
	if kind == "wasm" {
		spec.Wasm = &caxton.WasmSpec{Module: mustRead(b, "guest/c/agents/echo.wasm")}
	} else {
		spec.NewHandler = echoFactory
	}
	return spec
}

// BenchmarkUpgradeSwitch is the time a blue-green Upgrade takes, from the
// call to the old version retired, for an idle agent of 2 replicas: making
// the new version's handlers (a wasm instance each) and the switch at a
// message boundary on every instance.
func BenchmarkUpgradeSwitch(b *testing.B) {
	for _, kind := range []string{"native", "wasm"} {
		b.Run(kind, func(b *testing.B) {
			rt := newBenchRuntime(b)
			ctx := context.Background()
			spec := opsSpec(b, kind, 2)
			if err := rt.Spawn(ctx, spec); err != nil {
				b.Fatal(err)
			}
			code := caxton.AgentSpec{NewHandler: spec.NewHandler, Wasm: spec.Wasm}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := rt.Upgrade(ctx, "ops", code, caxton.Strategy{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRequestDuringUpgrades measures request/reply latency to an agent
// that is upgraded blue-green over and over meanwhile, beside the same
// requests with no upgrade: the p99 shows what a switch delays.
func BenchmarkRequestDuringUpgrades(b *testing.B) {
	for _, upgrading := range []bool{false, true} {
		b.Run(fmt.Sprintf("upgrading=%v", upgrading), func(b *testing.B) {
			rt := newBenchRuntime(b)
			ctx := context.Background()
			spec := opsSpec(b, "native", 2)
			if err := rt.Spawn(ctx, spec); err != nil {
				b.Fatal(err)
			}
			stop := make(chan struct{})
			var switches atomic.Int64
			done := make(chan struct{})
			go func() {
				defer close(done)
				if !upgrading {
					return
				}
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := rt.Upgrade(ctx, "ops", caxton.AgentSpec{NewHandler: echoFactory}, caxton.Strategy{}); err != nil {
						b.Error(err)
						return
					}
					switches.Add(1)
				}
			}()
			benchRequests(b, rt, "ops", nil)
			close(stop)
			<-done
			b.ReportMetric(float64(switches.Load())/float64(b.N), "switches/op")
		})
	}
}

// BenchmarkScale is the cost of adding one instance and retiring it again
// (Scale 1 → 2 → 1), per instance: opening its queue, making its handler (a
// wasm instance), and on the way down moving its (empty) queue and closing
// it.
func BenchmarkScale(b *testing.B) {
	for _, kind := range []string{"native", "wasm"} {
		b.Run(kind, func(b *testing.B) {
			rt := newBenchRuntime(b)
			ctx := context.Background()
			if err := rt.Spawn(ctx, opsSpec(b, kind, 1)); err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, 2*b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if err := rt.Scale(ctx, "ops", 2); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := rt.Scale(ctx, "ops", 1); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, t1.Sub(t0), time.Since(t1))
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}
