package caxton

import (
	"syscall"
	"time"
	"unsafe"
)

// cpuClockWorks says whether threadCPUTime measures anything here.
const cpuClockWorks = true

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID.
const clockThreadCPUTime = 3

// threadCPUTime is the calling thread's CPU time (user and system). The
// thread's CPU clock has no vDSO fast path, so this is a system call; it
// cannot block, hence the raw form.
func threadCPUTime() time.Duration {
	var ts syscall.Timespec
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
