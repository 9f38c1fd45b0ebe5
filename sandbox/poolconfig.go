package sandbox

import (
	"errors"
	"fmt"
)

// Pool configures WithInstancePool.
type Pool struct {
	// Instances is how many instances can be live at once (the pool's
	// slots); more fail to start with ErrPoolFull until one closes.
	Instances int
	// MaxMemory is the largest linear memory an instance of the pool may
	// have, in bytes (default DefaultMaxMemory). An instance whose
	// Limits.MaxMemory is larger is refused at start.
	MaxMemory int64
	// KeepResident is how much of a slot's memory stays mapped after its
	// instance closes, in bytes (default 1 MiB, at most MaxMemory), so the
	// next instance in the slot does not fault those pages in again. It is
	// resident memory the process keeps: up to Instances × KeepResident
	// (a slot's reset touches all of it, up to the instance's memory
	// size). Smaller keeps less resident and makes the next instance
	// fault in the pages beyond it that it writes: 100,000 hibernating
	// C agents over 12,000 slots held 2.3 GiB at the default and 0.9 GiB
	// with 16 KiB, for a few page faults per wake (BENCHMARKS.md).
	KeepResident int64
}

// ErrPoolFull is wrapped by Instantiate and Restore when every slot of
// the engine's instance pool holds a live instance.
var ErrPoolFull = errors.New("sandbox: the instance pool is full")

// maxPoolSlots is the process's budget of pool slots: 16,384 slots are
// 64 TiB of the 128 TiB a process can address (the live instances an
// engine without a pool maps one by one are held to about as many by
// ErrTooManyInstances).
const maxPoolSlots = 16384

// withDefaults checks p and fills in its defaults.
func (p Pool) withDefaults() (Pool, error) {
	if p.Instances < 1 || p.Instances > maxPoolSlots {
		return p, fmt.Errorf("sandbox: WithInstancePool: Instances %d is not within 1..%d", p.Instances, maxPoolSlots)
	}
	if p.MaxMemory == 0 {
		p.MaxMemory = DefaultMaxMemory
	}
	if p.MaxMemory < 64<<10 || p.MaxMemory >= 2<<30 {
		return p, fmt.Errorf("sandbox: WithInstancePool: MaxMemory %d is not within 64 KiB..2 GiB", p.MaxMemory)
	}
	if p.KeepResident == 0 {
		p.KeepResident = 1 << 20
	}
	if p.KeepResident < 0 {
		return p, fmt.Errorf("sandbox: WithInstancePool: KeepResident %d is negative", p.KeepResident)
	}
	p.KeepResident = min(p.KeepResident, p.MaxMemory)
	return p, nil
}
