//go:build cgo

package sandbox

/*
#include <stddef.h>
#include <stdint.h>

// wasmtime's C API (wasmtime/config.h), which wasmtime-go links but does
// not wrap: the pooling instance allocator.
typedef struct wasm_config_t wasm_config_t;
typedef struct wasmtime_pooling_allocation_config_t wasmtime_pooling_allocation_config_t;
extern wasmtime_pooling_allocation_config_t *wasmtime_pooling_allocation_config_new(void);
extern void wasmtime_pooling_allocation_config_delete(wasmtime_pooling_allocation_config_t *);
extern void wasmtime_pooling_allocation_strategy_set(wasm_config_t *, const wasmtime_pooling_allocation_config_t *);
extern void wasmtime_pooling_allocation_config_total_core_instances_set(wasmtime_pooling_allocation_config_t *, uint32_t);
extern void wasmtime_pooling_allocation_config_total_memories_set(wasmtime_pooling_allocation_config_t *, uint32_t);
extern void wasmtime_pooling_allocation_config_total_tables_set(wasmtime_pooling_allocation_config_t *, uint32_t);
extern void wasmtime_pooling_allocation_config_max_memory_size_set(wasmtime_pooling_allocation_config_t *, size_t);
extern void wasmtime_pooling_allocation_config_max_tables_per_module_set(wasmtime_pooling_allocation_config_t *, uint32_t);
extern void wasmtime_pooling_allocation_config_table_elements_set(wasmtime_pooling_allocation_config_t *, size_t);
extern void wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(wasmtime_pooling_allocation_config_t *, size_t);
extern void wasmtime_pooling_allocation_config_table_keep_resident_set(wasmtime_pooling_allocation_config_t *, size_t);
extern void wasmtime_pooling_allocation_config_max_unused_warm_slots_set(wasmtime_pooling_allocation_config_t *, uint32_t);

static void caxton_pool(wasm_config_t *cfg, uint32_t instances, size_t max_memory, size_t keep,
                        uint32_t tables, size_t elements) {
	wasmtime_pooling_allocation_config_t *p = wasmtime_pooling_allocation_config_new();
	wasmtime_pooling_allocation_config_total_core_instances_set(p, instances);
	wasmtime_pooling_allocation_config_total_memories_set(p, instances);
	wasmtime_pooling_allocation_config_total_tables_set(p, instances * tables);
	wasmtime_pooling_allocation_config_max_memory_size_set(p, max_memory);
	wasmtime_pooling_allocation_config_max_tables_per_module_set(p, tables);
	wasmtime_pooling_allocation_config_table_elements_set(p, elements);
	wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(p, keep);
	wasmtime_pooling_allocation_config_table_keep_resident_set(p, 64 << 10);
	wasmtime_pooling_allocation_config_max_unused_warm_slots_set(p, instances);
	wasmtime_pooling_allocation_strategy_set(cfg, p);
	wasmtime_pooling_allocation_config_delete(p);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// poolSlots is the process's budget of pool slots, over all engines.
//
// It is process-wide on purpose: every slot reserves 4 GiB of address
// space and a guard when its engine is created, and wasmtime aborts the
// process — not an error — when that reservation fails (three engines of
// 10,000 slots did, on a 128 TiB address space). The budget leaves room
// for the instances that engines without a pool map one by one.
var poolSlots struct {
	mu   sync.Mutex
	used int
}

// reservePool takes n slots from the budget, or says how many are left.
func reservePool(n int) error {
	poolSlots.mu.Lock()
	defer poolSlots.mu.Unlock()
	if poolSlots.used+n > maxPoolSlots {
		return fmt.Errorf("sandbox: WithInstancePool: %d slots asked, %d of the process's %d are left "+
			"(each reserves 4 GiB of address space; close other pooled engines, or ask for fewer)", n, maxPoolSlots-poolSlots.used, maxPoolSlots)
	}
	poolSlots.used += n
	return nil
}

func releasePool(n int) {
	poolSlots.mu.Lock()
	poolSlots.used -= n
	poolSlots.mu.Unlock()
}

// WithInstancePool makes the engine allocate instances from a pool of
// slots reserved once (wasmtime's pooling allocator) instead of mapping
// fresh memory for each. A new instance then reuses a slot whose pages are
// already resident: on the reference machine (a VM, where a page's first
// touch faults to the host for 15-600 µs) a C agent's start and first
// message went from ~130 µs to ~15 µs, and a hibernated agent's wake with
// it (see BENCHMARKS.md). The price: Pool.Instances bounds the live
// instances of the engine, memory stays resident per used slot (Pool.
// KeepResident), and every instance is held to Pool.MaxMemory.
func WithInstancePool(p Pool) EngineOption {
	return func(e *Engine) error {
		p, err := p.withDefaults()
		if err != nil {
			return err
		}
		e.pool = &p
		return nil
	}
}

// usePool configures cfg for e.pool. wasmtime-go does not wrap the pooling
// allocator, so this reaches its *wasm_config_t: the one field of
// wasmtime.Config (checked here, so a wasmtime-go that changes the struct
// fails NewEngine instead of corrupting memory).
func (e *Engine) usePool(cfg *wasmtime.Config) error {
	if unsafe.Sizeof(wasmtime.Config{}) != unsafe.Sizeof(uintptr(0)) {
		return errors.New("sandbox: WithInstancePool: this wasmtime-go's Config is not the one-pointer struct the pool reaches into")
	}
	ptr := *(*unsafe.Pointer)(unsafe.Pointer(cfg))
	if ptr == nil {
		return errors.New("sandbox: WithInstancePool: wasmtime config is nil")
	}
	if err := reservePool(e.pool.Instances); err != nil {
		return err
	}
	e.poolHolds.Store(1) // the engine's own, dropped by Close (leave)
	C.caxton_pool((*C.wasm_config_t)(ptr), C.uint32_t(e.pool.Instances), C.size_t(e.pool.MaxMemory),
		C.size_t(e.pool.KeepResident), C.uint32_t(maxTables), C.size_t(maxTableElements))
	return nil
}

// poolErr turns wasmtime's refusal of a full pool into ErrPoolFull.
func (e *Engine) poolErr(agent string, err error) error {
	if e.pool == nil || err == nil {
		return nil
	}
	msg := err.Error()
	if strings.Contains(msg, "maximum concurrent") && strings.Contains(msg, "limit of") {
		return fmt.Errorf("%w: agent %q not started: all %d slots hold live instances", ErrPoolFull, agent, e.pool.Instances)
	}
	return nil
}
