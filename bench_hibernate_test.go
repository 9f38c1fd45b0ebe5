package caxton_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
)

// BenchmarkWasmActivation is the wake of a hibernated agent in the
// sandbox: Restore of a counter's snapshot taken after 100 messages (C),
// or after 10 (Go, whose runtime has a larger memory), and the message it
// wakes for, beside a fresh Instantiate of the same module and its first
// message in the same run; and the Snapshot that hibernation takes. Each
// reports p50, p99, the mean, and the snapshot's own bytes. The -pooled
// runs take their instances from an instance pool (sandbox.WithInstancePool).
func BenchmarkWasmActivation(b *testing.B) {
	guests := []struct {
		name     string
		code     func(b *testing.B) []byte
		messages int
	}{
		{"c", func(b *testing.B) []byte { return mustRead(b, "guest/c/agents/counter.wasm") }, 100},
		{"go", func(b *testing.B) []byte { return testguest.Build(b, "counter") }, 10},
	}
	cache := b.TempDir()
	for _, run := range []struct {
		g    int
		pool bool
	}{{0, false}, {0, true}, {1, false}, {1, true}} {
		g := guests[run.g]
		opts := []sandbox.EngineOption{sandbox.WithCacheDir(cache)}
		if run.pool {
			g.name += "-pooled"
			opts = append(opts, sandbox.WithInstancePool(sandbox.Pool{Instances: 16}))
		}
		e, err := sandbox.NewEngine(opts...)
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		m, err := e.Compile(context.Background(), g.code(b))
		if err != nil {
			b.Fatal(err)
		}
		cfg := sandbox.InstanceConfig{Agent: "counter", Snapshots: true}
		in, err := m.Instantiate(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		msg := []*acl.Message{{Performative: acl.Request, Sender: "host", Receivers: []acl.AgentID{"counter"}, Content: []byte("count")}}
		for range g.messages {
			if _, err := in.Handle(context.Background(), msg); err != nil {
				b.Fatal(err)
			}
		}
		snap, err := in.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		in.Close()
		// Each round wakes an instance and hands it one message, as the
		// runtime does: a new store's first writes fault its pages in, and
		// on this machine (a VM) a fault costs 15-600 µs, so timing the
		// restore without the message it is for would hide a cost that
		// instantiate pays too, on its first message.
		handleOne := func(in *sandbox.Instance) error {
			_, err := in.Handle(context.Background(), msg)
			return err
		}
		b.Run(g.name+"/restore+message", func(b *testing.B) {
			benchInstantiate(b, func() (func(), error) {
				in, err := m.Restore(context.Background(), cfg, snap)
				if err != nil {
					return nil, err
				}
				return func() { in.Close() }, handleOne(in)
			})
			b.ReportMetric(float64(snap.Bytes()), "snapshot-bytes")
			b.ReportMetric(float64(snap.MemorySize()), "memory-bytes")
		})
		b.Run(g.name+"/instantiate+message", func(b *testing.B) {
			benchInstantiate(b, func() (func(), error) {
				in, err := m.Instantiate(context.Background(), cfg)
				if err != nil {
					return nil, err
				}
				return func() { in.Close() }, handleOne(in)
			})
		})
		b.Run(g.name+"/snapshot", func(b *testing.B) {
			in, err := m.Restore(context.Background(), cfg, snap)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := in.Snapshot(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}
