package caxton

import (
	"context"
	"runtime"
	"time"
)

// cpuTimed runs f locked to its OS thread and charges the thread's CPU
// time to the agent: AgentSpec.MeasureCPU for a call that runs on a
// goroutine of its own (a delivery timeout). While locked, no other
// goroutine runs on the thread, and a blocked handler's thread sleeps, so
// the thread's CPU clock advances only for f (and for the runtime's work
// on f's behalf, such as garbage-collection assists). A panic still
// counts: the deferred half runs before protect recovers it.
func (in *instance) cpuTimed(ctx context.Context, f func() error) error {
	runtime.LockOSThread()
	start := threadCPUTime()
	defer func() {
		d := threadCPUTime() - start
		runtime.UnlockOSThread()
		in.chargeCPU(ctx, d)
	}()
	return f()
}

// chargeCPU adds d to the agent's CPU time and its metric.
func (in *instance) chargeCPU(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	in.a.stats.cpuNanos.Add(int64(d))
	in.a.rt.tel.CPUTime(ctx, in.a.name(), d)
}
