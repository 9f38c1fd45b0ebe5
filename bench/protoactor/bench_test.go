package protoactor

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

func newRuntime(b *testing.B) *caxton.Runtime {
	b.Helper()
	rt, err := caxton.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rt.Close(context.Background()) })
	return rt
}

// newSystem returns a protoactor system with its defaults, logging nowhere.
func newSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
}

// counter calls done after n calls.
type counter struct {
	n    int64
	seen atomic.Int64
	done chan struct{}
}

func newCounter(n int) *counter { return &counter{n: int64(n), done: make(chan struct{})} }

func (c *counter) hit() {
	if c.seen.Add(1) == c.n {
		close(c.done)
	}
}

// payload is what the protoactor actor receives: a message of the same
// shape Caxton carries, so both sides allocate one per send.
type payload struct{ m *acl.Message }

func BenchmarkOneToOne(b *testing.B) {
	b.Run("caxton", func(b *testing.B) {
		rt := newRuntime(b)
		ctx := context.Background()
		c := newCounter(b.N)
		if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "sink", Handler: caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
			c.hit()
			return nil
		})}); err != nil {
			b.Fatal(err)
		}
		to := []acl.AgentID{"sink"}
		b.ReportAllocs()
		b.ResetTimer()
		cpu := startCPU()
		for i := 0; i < b.N; i++ {
			if err := rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: to}); err != nil {
				b.Fatal(err)
			}
		}
		<-c.done
		b.StopTimer()
		cpu.report(b)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("protoactor", func(b *testing.B) {
		sys := newSystem()
		defer sys.Shutdown()
		c := newCounter(b.N)
		pid := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
			if _, ok := ctx.Message().(*payload); ok {
				c.hit()
			}
		}))
		to := []acl.AgentID{"sink"}
		b.ReportAllocs()
		b.ResetTimer()
		cpu := startCPU()
		for i := 0; i < b.N; i++ {
			sys.Root.Send(pid, &payload{&acl.Message{Performative: acl.Inform, Receivers: to}})
		}
		<-c.done
		b.StopTimer()
		cpu.report(b)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("channel", func(b *testing.B) {
		ch := make(chan *acl.Message, 1024)
		c := newCounter(b.N)
		go func() {
			for range ch {
				c.hit()
			}
		}()
		defer close(ch)
		to := []acl.AgentID{"sink"}
		b.ReportAllocs()
		b.ResetTimer()
		cpu := startCPU()
		for i := 0; i < b.N; i++ {
			ch <- &acl.Message{Performative: acl.Inform, Receivers: to}
		}
		<-c.done
		b.StopTimer()
		cpu.report(b)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(sum.Nanoseconds())/float64(len(lat)), "mean-ns")
}

func BenchmarkRequestReply(b *testing.B) {
	b.Run("caxton", func(b *testing.B) {
		rt := newRuntime(b)
		ctx := context.Background()
		if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			return mc.Reply(ctx, acl.Inform, nil)
		})}); err != nil {
			b.Fatal(err)
		}
		to := []acl.AgentID{"echo"}
		lat := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if _, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: to}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		reportPercentiles(b, lat)
	})
	b.Run("protoactor", func(b *testing.B) {
		sys := newSystem()
		defer sys.Shutdown()
		pid := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
			if p, ok := ctx.Message().(*payload); ok {
				ctx.Respond(&payload{p.m.CreateReplyWith(acl.Inform, "r")})
			}
		}))
		to := []acl.AgentID{"echo"}
		lat := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if _, err := sys.Root.RequestFuture(pid, &payload{&acl.Message{Performative: acl.Request, Receivers: to}}, 10*time.Second).Result(); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		reportPercentiles(b, lat)
	})
	b.Run("channel", func(b *testing.B) {
		type call struct {
			m     *acl.Message
			reply chan *acl.Message
		}
		req := make(chan call, 1024)
		go func() {
			for c := range req {
				c.reply <- c.m.CreateReplyWith(acl.Inform, "r")
			}
		}()
		defer close(req)
		to := []acl.AgentID{"echo"}
		lat := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			c := call{m: &acl.Message{Performative: acl.Request, Receivers: to}, reply: make(chan *acl.Message, 1)}
			req <- c
			<-c.reply
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		reportPercentiles(b, lat)
	})
}

// BenchmarkSpawn spawns into systems of at most 1,000 agents (a fresh one
// per thousand, outside the timer): the steady cost of one spawn.
func BenchmarkSpawn(b *testing.B) {
	const perSystem = 1000
	names := make([]string, perSystem)
	for i := range names {
		names[i] = "agent-" + strconv.Itoa(i)
	}
	b.Run("caxton", func(b *testing.B) {
		ctx := context.Background()
		h := caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { return nil })
		var rt *caxton.Runtime
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%perSystem == 0 {
				b.StopTimer()
				if rt != nil {
					_ = rt.Close(ctx)
				}
				var err error
				if rt, err = caxton.New(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			if err := rt.Spawn(ctx, caxton.AgentSpec{Name: acl.AgentID(names[i%perSystem]), Handler: h}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		_ = rt.Close(ctx)
	})
	b.Run("protoactor", func(b *testing.B) {
		props := actor.PropsFromFunc(func(actor.Context) {})
		var sys *actor.ActorSystem
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%perSystem == 0 {
				b.StopTimer()
				if sys != nil {
					sys.Shutdown()
				}
				sys = newSystem()
				b.StartTimer()
			}
			if _, err := sys.Root.SpawnNamed(props, names[i%perSystem]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		sys.Shutdown()
	})
	b.Run("channel", func(b *testing.B) {
		var reg map[string]chan *acl.Message
		stop := func() {
			for _, ch := range reg {
				close(ch)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%perSystem == 0 {
				b.StopTimer()
				stop()
				reg = make(map[string]chan *acl.Message, perSystem)
				b.StartTimer()
			}
			ch := make(chan *acl.Message, 1024)
			reg[names[i%perSystem]] = ch
			go func() {
				for range ch {
				}
			}()
		}
		b.StopTimer()
		stop()
	})
}
