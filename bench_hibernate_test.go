package caxton_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/guest/python"
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

// BenchmarkWasmPreinitialised is the start of a Go guest (counter) and its
// first message from its module as built, which runs the Go runtime's
// initialisation in _initialize, beside the same from the module
// sandbox.Engine.Preinitialize made of it (start-up baked into its data
// segments), with and without an instance pool, in the same run; and the
// C counter and the JavaScript and Python counter scripts (whose start-up
// sets up the interpreter and runs the script) the same way. Start alone
// (instantiate) is reported too.
func BenchmarkWasmPreinitialised(b *testing.B) {
	guests := []struct {
		name string
		code func(b *testing.B) []byte
		init string // a script agent's script
	}{
		{"go", func(b *testing.B) []byte { return testguest.Build(b, "counter") }, ""},
		{"c", func(b *testing.B) []byte { return mustRead(b, "guest/c/agents/counter.wasm") }, ""},
		{"js", func(*testing.B) []byte { return js.Engine() }, "guest/js/agents/counter.js"},
		{"python", func(*testing.B) []byte { return python.Engine() }, "guest/python/agents/counter.py"},
	}
	cache := b.TempDir()
	msg := []*acl.Message{{Performative: acl.Request, Sender: "host", Receivers: []acl.AgentID{"counter"}, Content: []byte("count")}}
	for _, g := range guests {
		for _, pool := range []bool{false, true} {
			opts := []sandbox.EngineOption{sandbox.WithCacheDir(cache)}
			suffix := ""
			if pool {
				opts, suffix = append(opts, sandbox.WithInstancePool(sandbox.Pool{Instances: 16, KeepResident: 8 << 20})), "-pooled"
			}
			e, err := sandbox.NewEngine(opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			code := g.code(b)
			cfg := sandbox.InstanceConfig{Agent: "counter"}
			if g.init != "" {
				cfg.Init = mustRead(b, g.init)
			}
			m, err := e.Compile(context.Background(), code)
			if err != nil {
				b.Fatal(err)
			}
			pm, err := e.Preinitialize(context.Background(), code, cfg)
			if err != nil {
				b.Fatal(err)
			}
			for _, v := range []struct {
				name string
				m    *sandbox.Module
			}{{"as-built", m}, {"preinitialised", pm}} {
				b.Run(g.name+suffix+"/"+v.name+"/start+message", func(b *testing.B) {
					benchInstantiate(b, func() (func(), error) {
						in, err := v.m.Instantiate(context.Background(), cfg)
						if err != nil {
							return nil, err
						}
						_, err = in.Handle(context.Background(), msg)
						return func() { in.Close() }, err
					})
				})
				b.Run(g.name+suffix+"/"+v.name+"/start", func(b *testing.B) {
					benchInstantiate(b, func() (func(), error) {
						in, err := v.m.Instantiate(context.Background(), cfg)
						if err != nil {
							return nil, err
						}
						return func() { in.Close() }, nil
					})
				})
			}
		}
	}
}
