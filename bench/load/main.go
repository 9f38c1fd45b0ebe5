// Command load drives a production-like load through a Caxton runtime and
// reports what callers would see: N agents (a fraction of them sandboxed C
// guests), an open-loop rate of messages for a duration, a mix of one-way
// sends and request → reply round trips, uniformly over the agents.
//
//	go run ./bench/load -agents 10000 -rate 100000 -duration 60s
//	go run ./bench/load -agents 10000 -rate 100000 -duration 60s -wasm-fraction 0.1
//	go run ./bench/load -agents 1000000 -wasm-fraction 1 -hibernate 5s -warm -active 10000 -cold 0.01 -rate 10000 -duration 30s -pool 12000
//
// With -hibernate the C guests hibernate when idle (and are spawned
// lazily); -warm first sends each C guest one request and waits until all
// sleep; -active sends to a hot set of agents, and -cold to any agent (waking
// a sleeping one), whose latency is reported apart; -pool starts the C
// guests in an instance pool.
//
// The load is open-loop: message i is due at start + i/rate whatever
// happened to the ones before it, and its latency is measured from when it
// was due (or from when it was sent, if a sender was early), to when the
// agent handled it (a send) or the reply arrived (a request). A stall
// therefore shows as latency of every message that should have gone out
// during it, not as one slow message — the figures are free of coordinated
// omission. Requests are awaited on their own goroutines, so a slow reply
// does not hold up the schedule.
//
// It reports p50, p99, p99.9, mean and max latency, the rate achieved, and
// every message accounted for: a send that the runtime accepted and no
// agent handled, or a request without its reply, is lost; a send the
// runtime refused (a full mailbox with OverflowReject; the default is to
// block) is counted apart. With -rate 0 the senders go as fast as they can
// (throughput; latency then runs from each message's send). Resident memory
// is reported after spawning and at the end.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
)

// config is one load run.
type config struct {
	Agents       int           // agents spawned
	WasmFraction float64       // of the agents, the share that are C guests (echo)
	Rate         int           // messages per second over all senders; 0: as fast as possible
	Duration     time.Duration // how long messages are scheduled
	RequestShare float64       // of the messages to native agents, the share that are requests
	Senders      int           // goroutines sending on the schedule
	WasmModule   string        // the C guest
	Drain        time.Duration // how long to wait, after the schedule, for the last messages
	Settle       time.Duration // with it, the latency of messages due after this much of the schedule is reported apart
	Hibernate    time.Duration // C guests hibernate after this long idle (0: never); they are then spawned lazily
	Active       int           // messages go to this many agents (0: all), but for ColdShare of them
	ColdShare    float64       // of the messages, the share sent to any agent (with -active: waking hibernated ones)
	Warm         bool          // before the schedule, one request to every C guest (then, with -hibernate, wait until all sleep)
	MemProfile   string        // a heap profile: after the warm-up with Warm and Hibernate, else at the end
	Pool         int           // C guests start in an instance pool of this many slots (0: none)
	KeepResident int64         // with Pool: bytes of a slot's memory kept resident (sandbox.Pool.KeepResident; 0: its default)
}

func main() {
	c := config{}
	flag.IntVar(&c.Agents, "agents", 1000, "number of agents")
	flag.Float64Var(&c.WasmFraction, "wasm-fraction", 0, "share of the agents that are sandboxed C guests (0..1)")
	flag.IntVar(&c.Rate, "rate", 10000, "messages per second, open loop (0: as fast as possible)")
	flag.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to send")
	flag.Float64Var(&c.RequestShare, "requests", 0.1, "share of the messages to native agents that are requests (the rest are one-way sends); C guests get requests only")
	flag.IntVar(&c.Senders, "senders", 4, "sending goroutines")
	flag.StringVar(&c.WasmModule, "wasm", "guest/c/agents/echo.wasm", "the C guest (it must answer every message)")
	flag.DurationVar(&c.Settle, "settle", 0, "also report the latency of the messages due after this much of the schedule (the steady state, without the start's transient)")
	flag.DurationVar(&c.Drain, "drain", 30*time.Second, "how long to wait for the last messages after the schedule ends")
	flag.DurationVar(&c.Hibernate, "hibernate", 0, "C guests hibernate after this long without a message (WasmSpec.Hibernate), and are spawned lazily")
	flag.IntVar(&c.Active, "active", 0, "send to this many agents, spread over all (0: every agent), but for -cold of the messages")
	flag.Float64Var(&c.ColdShare, "cold", 0, "with -active: the share of messages sent to any agent, most of them hibernated (their latency is reported apart)")
	flag.BoolVar(&c.Warm, "warm", false, "before the schedule, send one request to every C guest; with -hibernate, then wait until they all hibernate")
	flag.Int64Var(&c.KeepResident, "keep-resident", 0, "with -pool: bytes of each slot's memory kept resident between instances (sandbox.Pool.KeepResident; 0: its default, 1 MiB)")
	flag.IntVar(&c.Pool, "pool", 0, "start C guests in an instance pool of this many slots (caxton.WithWasmInstancePool; 0: none)")
	flag.StringVar(&c.MemProfile, "memprofile", "", "write a heap profile to this file: with -warm and -hibernate after the warm-up (what sleeping agents hold), otherwise at the end (alloc_space: what the run allocated)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	tracefile := flag.String("trace", "", "write an execution trace of the whole run to this file (go tool trace)")
	flag.Parse()
	record(*tracefile, trace.Start)
	defer trace.Stop() // no-op when not started
	record(*cpuprofile, pprof.StartCPUProfile)
	defer pprof.StopCPUProfile()
	if _, err := run(context.Background(), os.Stdout, c); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		pprof.StopCPUProfile()
		trace.Stop()
		os.Exit(1)
	}
}

// record starts a recorder (the CPU profiler, the execution tracer)
// writing to path, if path is set; it exits when it cannot.
func record(path string, start func(io.Writer) error) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		err = start(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// result is what run measured.
type result struct {
	Sent, Requests, Handled, Replies int64 // accepted sends and requests; handled sends; answered requests
	Refused, Lost                    int64
	Achieved                         float64       // messages per second actually sent
	Lat                              *hist         // from when each message was due
	Cold                             *hist         // the same, of the -cold messages
	Svc                              *hist         // from when each message was sent
	Steady                           *hist         // Lat of the messages due after -settle
	steadyFrom                       time.Duration // offset from epoch where -settle ends
	RSSSpawned, RSSEnd               int64
	epoch                            time.Time // message start offsets are from here
}

func (c config) check() error {
	switch {
	case c.Agents < 1:
		return errors.New("-agents must be at least 1")
	case c.WasmFraction < 0 || c.WasmFraction > 1:
		return errors.New("-wasm-fraction must be within 0..1")
	case c.RequestShare < 0 || c.RequestShare > 1:
		return errors.New("-requests must be within 0..1")
	case c.Rate < 0:
		return errors.New("-rate must not be negative")
	case c.Duration <= 0:
		return errors.New("-duration must be positive")
	case c.Senders < 1:
		return errors.New("-senders must be at least 1")
	case c.Hibernate < 0:
		return errors.New("-hibernate must not be negative")
	case c.Active < 0 || c.Active > c.Agents:
		return errors.New("-active must be within 0..-agents")
	case c.Pool < 0:
		return errors.New("-pool must not be negative")
	case c.Settle < 0 || c.Settle >= c.Duration:
		return errors.New("-settle must be within 0..-duration")
	case c.KeepResident < 0 || (c.KeepResident > 0 && c.Pool == 0):
		return errors.New("-keep-resident needs -pool and must not be negative")
	case c.ColdShare < 0 || c.ColdShare > 1:
		return errors.New("-cold must be within 0..1")
	}
	return nil
}

func run(ctx context.Context, w io.Writer, c config) (*result, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	sleep := new(sleepCount)
	opts := []caxton.Option{caxton.WithEventHook(sleep.count)}
	if c.Pool > 0 {
		opts = append(opts, caxton.WithWasmInstancePool(sandbox.Pool{Instances: c.Pool, KeepResident: c.KeepResident}))
	}
	rt, err := caxton.New(opts...)
	if err != nil {
		return nil, err
	}
	defer rt.Close(context.Background())
	epoch := time.Now()
	res := &result{Lat: new(hist), Svc: new(hist), Cold: new(hist), Steady: new(hist), epoch: epoch}
	handled := func(content []byte) {
		res.done(content)
		atomic.AddInt64(&res.Handled, 1)
	}
	nWasm := int(float64(c.Agents) * c.WasmFraction)
	names, isWasm, err := spawnAgents(ctx, rt, c, nWasm, handled)
	if err != nil {
		return nil, err
	}
	runtime.GC()
	res.RSSSpawned, _ = rss()
	fmt.Fprintf(w, "agents=%d (C guests %d) rate=%s duration=%v requests=%.0f%% senders=%d spawn=%v rss_after_spawn=%.1fMiB\n",
		c.Agents, nWasm, rateString(c.Rate), c.Duration, 100*c.RequestShare, c.Senders, time.Since(epoch).Round(time.Millisecond), mib(res.RSSSpawned))
	if c.Warm {
		if err := warm(ctx, w, rt, c, names[:nWasm], sleep, res); err != nil {
			return nil, err
		}
	}
	pick := picker(c)

	var reqs sync.WaitGroup
	start := time.Now()
	end := start.Add(c.Duration)
	res.steadyFrom = start.Sub(epoch) + c.Settle
	total := int64(c.Rate) * int64(c.Duration/time.Millisecond) / 1000
	var sg sync.WaitGroup
	for k := range c.Senders {
		sg.Add(1)
		go func() {
			defer sg.Done()
			r := rand.New(rand.NewPCG(uint64(k), 0x10ad))
			for i := int64(k); ; i += int64(c.Senders) {
				now := time.Now()
				from := now
				if c.Rate > 0 {
					if i >= total {
						return
					}
					due := start.Add(time.Duration(i * int64(time.Second) / int64(c.Rate)))
					if ahead := due.Sub(now); ahead > 200*time.Microsecond {
						time.Sleep(ahead) // timers are coarse: up to 200 µs early is sent now
						now = time.Now()
					}
					from = due
					if now.Before(due) {
						from = now // early: measured from the actual send
					}
				} else if now.After(end) {
					return
				}
				to, cold := pick(r)
				send(ctx, rt, c, r, to, cold, names, isWasm, from.Sub(epoch), now.Sub(epoch), res, &reqs)
			}
		}()
	}
	sg.Wait()
	sent := time.Since(start)
	res.Achieved = float64(atomic.LoadInt64(&res.Sent)+atomic.LoadInt64(&res.Requests)) / sent.Seconds()
	reqs.Wait()
	// Sends are one-way: wait (bounded) until the agents have handled them.
	deadline := time.Now().Add(c.Drain)
	for atomic.LoadInt64(&res.Handled) < atomic.LoadInt64(&res.Sent) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	res.Lost = res.Sent - atomic.LoadInt64(&res.Handled) + res.Requests - res.Replies
	res.RSSEnd, _ = rss()
	if !c.Warm || c.Hibernate == 0 {
		record(c.MemProfile, pprof.WriteHeapProfile)
	}
	h := res.Lat
	fmt.Fprintf(w, "sent=%d requests=%d achieved=%.0f msg/s over %v\n", res.Sent, res.Requests, res.Achieved, sent.Round(time.Millisecond))
	fmt.Fprintf(w, "latency from schedule: p50=%v p99=%v p99.9=%v mean=%v max=%v (n=%d)\n",
		h.quantile(0.5), h.quantile(0.99), h.quantile(0.999), h.mean(), time.Duration(h.max.Load()), h.n.Load())
	s := res.Svc
	fmt.Fprintf(w, "latency from send:     p50=%v p99=%v p99.9=%v mean=%v max=%v (excludes the load generator's own lateness; not free of coordinated omission)\n",
		s.quantile(0.5), s.quantile(0.99), s.quantile(0.999), s.mean(), time.Duration(s.max.Load()))
	if st := res.Steady; c.Settle > 0 {
		fmt.Fprintf(w, "latency from schedule after the first %v: p50=%v p99=%v p99.9=%v mean=%v max=%v (n=%d)\n",
			c.Settle, st.quantile(0.5), st.quantile(0.99), st.quantile(0.999), st.mean(), time.Duration(st.max.Load()), st.n.Load())
	}
	if cold := res.Cold; cold.n.Load() > 0 {
		fmt.Fprintf(w, "latency of -cold messages from schedule: p50=%v p99=%v p99.9=%v mean=%v (n=%d)\n",
			cold.quantile(0.5), cold.quantile(0.99), cold.quantile(0.999), cold.mean(), cold.n.Load())
	}
	if c.Hibernate > 0 {
		fmt.Fprintf(w, "hibernations=%d wakes=%d hibernated_at_end=%d\n", sleep.slept.Load(), sleep.woke.Load(), sleep.slept.Load()-sleep.woke.Load())
	}
	fmt.Fprintf(w, "lost=%d refused=%d rss_end=%.1fMiB goroutines=%d\n", res.Lost, res.Refused, mib(res.RSSEnd), runtime.NumGoroutine())
	return res, nil
}

// done records the latencies of a message whose content is its due and
// send offsets from epoch.
func (res *result) done(content []byte) {
	if len(content) != 16 && len(content) != 17 {
		return
	}
	now := time.Since(res.epoch)
	due := time.Duration(binary.LittleEndian.Uint64(content))
	lat := now - due
	res.Lat.record(lat)
	if due >= res.steadyFrom {
		res.Steady.record(lat)
	}
	res.Svc.record(now - time.Duration(binary.LittleEndian.Uint64(content[8:])))
	if len(content) == 17 { // a -cold message
		res.Cold.record(lat)
	}
}

// spawnAgents starts c.Agents agents, the first nWasm of them C guests.
func spawnAgents(ctx context.Context, rt *caxton.Runtime, c config, nWasm int, handled func([]byte)) ([]acl.AgentID, []bool, error) {
	var code []byte
	if nWasm > 0 {
		var err error
		if code, err = os.ReadFile(c.WasmModule); err != nil {
			return nil, nil, err
		}
	}
	native := caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		m := mc.Message()
		if m.Performative == acl.Request {
			r := mc.NewReply(acl.Inform)
			r.Content = m.Content
			return mc.Send(ctx, r)
		}
		handled(m.Content)
		return nil
	})
	names := make([]acl.AgentID, c.Agents)
	isWasm := make([]bool, c.Agents)
	for i := range names {
		names[i] = acl.AgentID("a" + strconv.Itoa(i))
		spec := caxton.AgentSpec{Name: names[i], Handler: native}
		if i < nWasm {
			spec = caxton.AgentSpec{Name: names[i], Wasm: &caxton.WasmSpec{Module: code, Hibernate: c.Hibernate}}
			// A hibernating agent starts with its first message: a
			// million of them cannot all hold a store at once.
			spec.Lazy = c.Hibernate > 0
			isWasm[i] = true
		}
		if err := rt.Spawn(ctx, spec); err != nil {
			return nil, nil, fmt.Errorf("spawn %s: %w", names[i], err)
		}
	}
	return names, isWasm, nil
}

// send sends one message to agent to: a request (awaited on its own
// goroutine) or a one-way send, stamped with its start offset from epoch
// (and marked if it is a -cold message).
func send(ctx context.Context, rt *caxton.Runtime, c config, r *rand.Rand, to int, cold bool, names []acl.AgentID, isWasm []bool, due, now time.Duration, res *result, reqs *sync.WaitGroup) {
	content := binary.LittleEndian.AppendUint64(make([]byte, 0, 17), uint64(due))
	content = binary.LittleEndian.AppendUint64(content, uint64(now))
	if cold {
		content = append(content, 1)
	}
	m := &acl.Message{Receivers: []acl.AgentID{names[to]}, Content: content}
	if isWasm[to] || r.Float64() < c.RequestShare {
		m.Performative = acl.Request
		atomic.AddInt64(&res.Requests, 1)
		reqs.Add(1)
		go func() {
			defer reqs.Done()
			rctx, cancel := context.WithTimeout(ctx, c.Drain)
			defer cancel()
			if reply, err := rt.Request(rctx, m); err == nil && len(reply.Content) >= 16 {
				atomic.AddInt64(&res.Replies, 1)
				res.done(reply.Content)
			}
		}()
		return
	}
	m.Performative = acl.Inform
	if err := rt.Send(ctx, m); err != nil {
		atomic.AddInt64(&res.Refused, 1)
		return
	}
	atomic.AddInt64(&res.Sent, 1)
}
