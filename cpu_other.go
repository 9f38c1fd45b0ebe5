//go:build !linux

package caxton

import "time"

// cpuClockWorks says whether threadCPUTime measures anything here: not on
// this platform, so Spawn refuses AgentSpec.MeasureCPU.
const cpuClockWorks = false

func threadCPUTime() time.Duration { return 0 }
