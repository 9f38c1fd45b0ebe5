package caxton

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// The worker writes agent.stats for every message; senders read the
// agent's state, instances, version, breaker and quota on every send. On
// one cache line the two cores would pass it back and forth (it was a
// tenth of a one-to-one send's CPU). The struct's size class (640 B) puts
// every agent at the start of a line, so offsets decide the lines.
func TestAgentStatsShareNoCacheLineWithWhatSendersRead(t *testing.T) {
	var a agent
	const line = 64
	statsLine := unsafe.Offsetof(a.stats) / line
	for name, off := range map[string]uintptr{
		"spec": unsafe.Offsetof(a.spec) + unsafe.Sizeof(a.spec) - 1, "st": unsafe.Offsetof(a.st),
		"insts": unsafe.Offsetof(a.insts), "ver": unsafe.Offsetof(a.ver), "brk": unsafe.Offsetof(a.brk),
		"quota": unsafe.Offsetof(a.quota), "rr": unsafe.Offsetof(a.rr),
	} {
		assert.Less(t, off/line, statsLine, "agent.%s shares a cache line with agent.stats", name)
	}
	assert.LessOrEqual(t, unsafe.Sizeof(a), uintptr(640), "agent outgrew its 640-byte size class: check its alignment")
}

// The runtime's shutdown words: closed is read by every host call, hosts
// written by every host call, running by every worker start. Runtime
// embeds the struct anywhere, so the words must be a line apart, not
// merely on different lines of the struct.
func TestShutdownHotWordsAreALineApart(t *testing.T) {
	var s shutdown
	c, h, r := unsafe.Offsetof(s.closed), unsafe.Offsetof(s.hosts), unsafe.Offsetof(s.running)
	assert.GreaterOrEqual(t, h-c, uintptr(64), "closed and hosts")
	assert.GreaterOrEqual(t, r-h, uintptr(64), "hosts and running")
}
