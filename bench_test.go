package caxton_test

// Benchmarks for the core runtime, each beside a plain buffered Go channel
// doing the same work in the same run. Figures and the command are in
// BENCHMARKS.md.

import (
	"context"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

func newBenchRuntime(b *testing.B) *caxton.Runtime {
	b.Helper()
	rt, err := caxton.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rt.Close(context.Background()) })
	return rt
}

// countingAgent returns a handler that closes done after n messages.
func countingAgent(n int64, done chan struct{}) caxton.Handler {
	var seen atomic.Int64
	return caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error {
		if seen.Add(1) == n {
			close(done)
		}
		return nil
	})
}

// oneToOne sends b.N messages from the host to one native agent.
func oneToOne(b *testing.B, rt *caxton.Runtime) {
	done := make(chan struct{})
	ctx := context.Background()
	if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "sink", Handler: countingAgent(int64(b.N), done)}); err != nil {
		b.Fatal(err)
	}
	to := []acl.AgentID{"sink"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: to}); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}

func BenchmarkOneToOne(b *testing.B) {
	b.Run("caxton", func(b *testing.B) { oneToOne(b, newBenchRuntime(b)) })
	b.Run("channel", func(b *testing.B) {
		ch := make(chan *acl.Message, 1024)
		done := make(chan struct{})
		go func() {
			for i := 0; i < b.N; i++ {
				<-ch
			}
			close(done)
		}()
		to := []acl.AgentID{"sink"}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ch <- &acl.Message{Performative: acl.Inform, Receivers: to}
		}
		<-done
	})
}

const fanOut = 100

func BenchmarkFanOut100(b *testing.B) {
	b.Run("caxton", func(b *testing.B) {
		rt := newBenchRuntime(b)
		ctx := context.Background()
		dones := make([]chan struct{}, fanOut)
		for i := range dones {
			dones[i] = make(chan struct{})
			err := rt.Spawn(ctx, caxton.AgentSpec{
				Name: acl.AgentID("sub-" + strconv.Itoa(i)), Topics: []string{"news"},
				Handler: countingAgent(int64(b.N), dones[i]),
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		to := []acl.AgentID{acl.Topic("news")}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: to}); err != nil {
				b.Fatal(err)
			}
		}
		for _, d := range dones {
			<-d
		}
	})
	b.Run("channel", func(b *testing.B) {
		chans := make([]chan *acl.Message, fanOut)
		done := make(chan struct{}, fanOut)
		for i := range chans {
			chans[i] = make(chan *acl.Message, 1024)
			go func(ch chan *acl.Message) {
				for j := 0; j < b.N; j++ {
					<-ch
				}
				done <- struct{}{}
			}(chans[i])
		}
		to := []acl.AgentID{acl.Topic("news")}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m := &acl.Message{Performative: acl.Inform, Receivers: to}
			for _, ch := range chans {
				ch <- m
			}
		}
		for range chans {
			<-done
		}
	})
}

// reportPercentiles adds p50, p99 and the mean of the per-op latencies to
// the result: a median alone reads better than what callers get on
// average when the tail is long, so every latency figure shows all three.
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

// benchRequests times b.N host requests to agent and reports p50 and p99.
func benchRequests(b *testing.B, rt *caxton.Runtime, agent acl.AgentID, content []byte) {
	ctx := context.Background()
	to := []acl.AgentID{agent}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: to, Content: content}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

func BenchmarkRequestReply(b *testing.B) {
	b.Run("caxton", func(b *testing.B) {
		rt := newBenchRuntime(b)
		ctx := context.Background()
		if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: echo()}); err != nil {
			b.Fatal(err)
		}
		benchRequests(b, rt, "echo", nil)
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

// BenchmarkSpawn spawns agents into runtimes of up to 1000 agents each (a
// fresh runtime per thousand, outside the timer), so the figure is the
// steady cost of one spawn rather than of an ever-growing process.
func BenchmarkSpawn(b *testing.B) {
	const perRuntime = 1000
	b.Run("caxton", func(b *testing.B) {
		ctx := context.Background()
		h := caxton.HandlerFunc(func(context.Context, *caxton.MessageContext) error { return nil })
		var rt *caxton.Runtime
		names := make([]acl.AgentID, perRuntime)
		for i := range names {
			names[i] = acl.AgentID("agent-" + strconv.Itoa(i))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%perRuntime == 0 {
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
			if err := rt.Spawn(ctx, caxton.AgentSpec{Name: names[i%perRuntime], Handler: h}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		_ = rt.Close(ctx)
	})
	b.Run("channel", func(b *testing.B) {
		// The same work by hand: a named mailbox channel and a goroutine
		// serving it, registered in a map.
		var reg map[acl.AgentID]chan *acl.Message
		stop := func() {
			for _, ch := range reg {
				close(ch)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%perRuntime == 0 {
				b.StopTimer()
				stop()
				reg = make(map[acl.AgentID]chan *acl.Message)
				b.StartTimer()
			}
			ch := make(chan *acl.Message, 1024)
			reg[acl.AgentID("agent-"+strconv.Itoa(i))] = ch
			go func() {
				for range ch {
				}
			}()
		}
		b.StopTimer()
		stop()
	})
}
