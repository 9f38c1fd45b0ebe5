package sandbox

import (
	"errors"
	"fmt"
	"time"
)

// Limits bound what one agent instance may consume. Zero fields take the
// defaults below.
type Limits struct {
	// MaxMemory is the largest linear memory, in bytes (default 64 MiB);
	// memory.grow beyond it fails inside the guest.
	MaxMemory int64
	// BatchDeadline is the wall-clock time one batch may take (default 1s).
	BatchDeadline time.Duration
	// FuelPerBatch, when non-zero, meters the guest's instructions: a batch
	// that uses more traps with KindOutOfFuel. Zero means unmetered.
	FuelPerBatch uint64
	// MaxInboundMessage is the largest encoded message handed to the guest,
	// in bytes (default 1 MiB + 64 KiB, so any message a runtime accepts by
	// default fits).
	MaxInboundMessage int
	// MaxOutboundMessage is the largest encoded message the guest may emit
	// (default 1 MiB + 64 KiB).
	MaxOutboundMessage int
	// MaxOutboxMessages is the most messages one batch may emit (default 1024).
	MaxOutboxMessages int
}

// Defaults for Limits.
const (
	DefaultMaxMemory         = 64 << 20
	DefaultBatchDeadline     = time.Second
	DefaultMaxMessage        = 1<<20 + 64<<10 // a runtime's default content limit (1 MiB) plus room for the envelope
	DefaultMaxOutboxMessages = 1024
	unmeteredFuel            = 1 << 62
	maxLogMessage            = 64 << 10
)

// Fixed bounds that are not worth a knob: table size (function-pointer
// tables of real guests hold thousands of entries, not millions; a table
// that starts or grows past it is reported as KindTable) and the guest
// output forwarded to the log per call and stream.
const (
	maxTableElements = 100_000
	maxTables        = 4
	maxOutputPerCall = 1 << 20
)

// WithDefaults returns l with zero fields replaced by defaults, or an error
// naming a negative field.
func (l Limits) WithDefaults() (Limits, error) {
	if l.MaxMemory < 0 || l.BatchDeadline < 0 || l.MaxInboundMessage < 0 || l.MaxOutboundMessage < 0 || l.MaxOutboxMessages < 0 {
		return l, errors.New("sandbox: Limits: fields must not be negative")
	}
	if l.MaxMemory >= 2<<30 {
		return l, fmt.Errorf("sandbox: Limits.MaxMemory: %d is not below 2 GiB (Guest ABI v1 pointers are 31-bit)", l.MaxMemory)
	}
	if l.FuelPerBatch >= unmeteredFuel {
		return l, fmt.Errorf("sandbox: Limits.FuelPerBatch: %d is too large", l.FuelPerBatch)
	}
	if l.MaxMemory == 0 {
		l.MaxMemory = DefaultMaxMemory
	}
	if l.BatchDeadline == 0 {
		l.BatchDeadline = DefaultBatchDeadline
	}
	if l.MaxInboundMessage == 0 {
		l.MaxInboundMessage = DefaultMaxMessage
	}
	if l.MaxOutboundMessage == 0 {
		l.MaxOutboundMessage = DefaultMaxMessage
	}
	if l.MaxOutboxMessages == 0 {
		l.MaxOutboxMessages = DefaultMaxOutboxMessages
	}
	return l, nil
}

// Grants are the WASI capabilities an agent gets. The zero value grants
// nothing: no directories, no environment, no arguments.
type Grants struct {
	Dirs []DirGrant
	Env  map[string]string
	Args []string
}

// DirGrant preopens a host directory for the guest.
type DirGrant struct {
	HostPath  string // directory on the host
	GuestPath string // where the guest sees it, e.g. "/data"
	Writable  bool   // false: read-only
	// MaxBytes, for a writable grant, bounds what the directory may hold
	// (0: no bound). WASI writes go straight to the host's file system, so
	// the host enforcing it (the caxton runtime) measures the directory
	// after each batch and refuses the agent's batches while it is over;
	// see caxton's AgentSpec.Wasm.
	MaxBytes int64
}
