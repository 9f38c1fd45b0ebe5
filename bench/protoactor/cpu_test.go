package protoactor

import (
	"syscall"
	"testing"
	"time"
)

// cpuMeter measures the CPU time the whole process spends (every thread:
// sender, worker, garbage collector, scheduler) over a benchmark's timed
// loop. On a machine shared with other work a benchmark gets only part of
// a core, so messages per second measure the share as much as the code;
// CPU time per message does not, and it is what the code costs.
type cpuMeter struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuMeter { return cpuMeter{start: processCPU()} }

// report adds the "cpu-ns/op" metric: process CPU time per operation.
func (c cpuMeter) report(b *testing.B) {
	b.ReportMetric(float64((processCPU()-c.start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}
