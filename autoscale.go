package caxton

import (
	"cmp"
	"context"
	"time"
)

// ScalePolicy bounds an agent's instances and, optionally, lets the runtime
// change their number itself.
type ScalePolicy struct {
	// Min and Max bound Scale and the autoscaler (defaults 1 and
	// MaxReplicas). Spawn's Replicas must lie within them.
	Min, Max int
	// Autoscale, if set, scales the agent on its load.
	Autoscale *Autoscale
}

// MaxReplicas is the most instances an agent may have.
const MaxReplicas = 4096

// Autoscale adds an instance when the agent is busy and retires one when it
// is idle, looking every Every on the runtime's clock and changing at most
// once per Cooldown. Busy means the mean backlog per instance (queued
// messages and those its worker took but has not finished) exceeds
// UpDepth, or (if UpLatency is set) the mean handling time over the last
// period exceeds UpLatency; idle means the mean depth is at most DownDepth
// and handling (if measured) is under half of UpLatency.
type Autoscale struct {
	Every     time.Duration // how often to look (default 10s)
	Cooldown  time.Duration // least time between two changes (default 1 minute)
	UpDepth   int           // mean queued messages per instance that means busy (required, > 0)
	DownDepth int           // mean queued messages per instance that means idle (default 0)
	UpLatency time.Duration // mean handling time that means busy (0: not measured)
}

// bounds returns the policy's bounds with defaults.
func (p ScalePolicy) bounds() (lo, hi int) {
	return cmp.Or(p.Min, 1), cmp.Or(p.Max, MaxReplicas)
}

// validate checks the policy against the spawn's replicas; the error names
// the field.
func (p *ScalePolicy) validate(replicas int) error {
	switch {
	case p.Min < 0:
		return specErr("Scale.Min", "%d is negative", p.Min)
	case p.Max < 0 || p.Max > MaxReplicas:
		return specErr("Scale.Max", "%d is outside [0, %d]", p.Max, MaxReplicas)
	}
	lo, hi := p.bounds()
	switch {
	case lo > hi:
		return specErr("Scale.Min", "%d is above Max %d", lo, hi)
	case replicas < lo || replicas > hi:
		return specErr("Replicas", "%d is outside the bounds [%d, %d] (Scale)", replicas, lo, hi)
	}
	as := p.Autoscale
	if as == nil {
		return nil
	}
	switch {
	case as.Every < 0:
		return specErr("Scale.Autoscale.Every", "%v is negative", as.Every)
	case as.Cooldown < 0:
		return specErr("Scale.Autoscale.Cooldown", "%v is negative", as.Cooldown)
	case as.UpDepth <= 0:
		return specErr("Scale.Autoscale.UpDepth", "%d: must be positive", as.UpDepth)
	case as.DownDepth < 0 || as.DownDepth >= as.UpDepth:
		return specErr("Scale.Autoscale.DownDepth", "%d must lie in [0, UpDepth)", as.DownDepth)
	case as.UpLatency < 0:
		return specErr("Scale.Autoscale.UpLatency", "%v is negative", as.UpLatency)
	}
	c := *as
	c.Every = cmp.Or(c.Every, 10*time.Second)
	c.Cooldown = cmp.Or(c.Cooldown, time.Minute)
	p.Autoscale = &c
	return nil
}

// autoscale runs the agent's autoscaler until ctx ends (the agent is
// removed or the runtime closes).
func (a *agent) autoscale(ctx context.Context) {
	as := a.spec.Scale.Autoscale
	clk := a.rt.clock
	last := clk.Now().Add(-as.Cooldown)
	var lastBusy, lastN uint64
	for {
		t := clk.NewTimer(as.Every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		busyNanos, handled := a.stats.busyNanos.Load(), a.stats.timed.Load()
		var meanLatency time.Duration
		if n := handled - lastN; n > 0 {
			meanLatency = time.Duration((busyNanos - lastBusy) / n)
		}
		lastBusy, lastN = busyNanos, handled
		if a.state() != StateRunning || a.ro.Load() != nil || clk.Now().Sub(last) < as.Cooldown {
			continue
		}
		ins := a.all()
		depth := 0
		for _, in := range ins {
			depth += in.load() // queued and taken: a worker takes a batch at a time
		}
		mean := depth / len(ins)
		busy := mean > as.UpDepth || (as.UpLatency > 0 && meanLatency > as.UpLatency)
		idle := mean <= as.DownDepth && (as.UpLatency == 0 || meanLatency < as.UpLatency/2)
		lo, hi := a.spec.Scale.bounds()
		n := len(ins)
		switch {
		case busy && n < hi:
			n++
		case idle && !busy && n > lo:
			n--
		default:
			continue
		}
		if err := a.scale(ctx, n); err != nil {
			a.rt.logger.Warn("autoscale", "agent", a.name(), "instances", n, "error", err)
			continue
		}
		last = clk.Now()
	}
}
