//go:build !cgo

package sandbox

// This file is the sandbox of a build without cgo (CGO_ENABLED=0: static
// and distroless images, cross-compiles). wasmtime-go is a cgo package, so
// there is no engine to run guests: NewEngine fails with ErrNoCgo, which a
// caxton runtime returns from the first Spawn of a wasm agent, and native
// agents work as usual. Every file that imports wasmtime-go carries
// "//go:build cgo"; the exported API the rest of the module uses has a
// counterpart here, so a program compiles the same either way.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/tool"
)

// ErrClosed is returned by an Engine used after Close.
var ErrClosed = errors.New("sandbox: engine closed")

// Engine compiles and runs guests; in a build without cgo none can be
// created (NewEngine fails with ErrNoCgo).
type Engine struct{ _ [0]func() }

// EngineOption configures NewEngine.
type EngineOption func(*Engine) error

// WithCacheDir keeps compiled modules in dir. Without cgo nothing is
// compiled; the argument is still checked, so a configuration error is not
// hidden by the build.
func WithCacheDir(dir string) EngineOption {
	return func(*Engine) error {
		if dir == "" {
			return errors.New("sandbox: WithCacheDir: empty directory")
		}
		return nil
	}
}

// WithEpochTick sets the resolution of batch deadlines (checked, unused
// without cgo).
func WithEpochTick(d time.Duration) EngineOption {
	return func(*Engine) error {
		if d <= 0 {
			return fmt.Errorf("sandbox: WithEpochTick: %v is not positive", d)
		}
		return nil
	}
}

// WithLogger sets the logger for engine events (unused without cgo; nil
// means discard).
func WithLogger(*slog.Logger) EngineOption { return func(*Engine) error { return nil } }

// NewEngine checks its options and fails with ErrNoCgo: this build has no
// WebAssembly engine.
func NewEngine(opts ...EngineOption) (*Engine, error) {
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("sandbox: nil EngineOption")
		}
		if err := o(&Engine{}); err != nil {
			return nil, err
		}
	}
	return nil, ErrNoCgo
}

// Close does nothing: no engine exists without cgo.
func (e *Engine) Close() error { return nil }

// Compile fails with ErrNoCgo.
func (e *Engine) Compile(context.Context, []byte) (*Module, error) { return nil, ErrNoCgo }

// CompileText fails with ErrNoCgo.
func (e *Engine) CompileText(context.Context, string) (*Module, error) { return nil, ErrNoCgo }

// CompileFile fails with ErrNoCgo.
func (e *Engine) CompileFile(context.Context, string) (*Module, error) { return nil, ErrNoCgo }

// IsTextFile reports whether CompileFile reads the file at path as
// WebAssembly text: its name ends in ".wat" (in any case).
func IsTextFile(path string) bool { return strings.EqualFold(filepath.Ext(path), ".wat") }

// Module is a compiled guest; none exist without cgo.
type Module struct{ _ [0]func() }

// Instantiate fails with ErrNoCgo.
func (m *Module) Instantiate(context.Context, InstanceConfig) (*Instance, error) {
	return nil, ErrNoCgo
}

// InstanceConfig describes one agent instance.
type InstanceConfig struct {
	Agent  acl.AgentID      // the agent's name: logs, errors
	Limits Limits           // zero fields take defaults
	Grants Grants           // WASI capabilities; none by default
	Logger *slog.Logger     // receives guest logs and captured stdout/stderr (default: discard)
	Now    func() time.Time // the clock behind the caxton.now import (default time.Now)
	Tools  ToolFunc         // behind the caxton.tool_call import (nil: every call is "unavailable")
	Init   []byte           // handed to the guest's caxton_init export at start-up (an interpreter guest's script)
	// Snapshots keeps what Instance.Snapshot needs (unused without cgo).
	Snapshots bool
}

// ErrNoSnapshot is wrapped by Snapshot and Restore when an instance's state
// cannot be saved or put back.
var ErrNoSnapshot = errors.New("sandbox: no snapshot")

// ErrTooManyInstances is wrapped by Instantiate and Restore when the
// process already holds as many live instances as it safely can.
var ErrTooManyInstances = errors.New("sandbox: too many live instances in this process")

// LiveInstances is 0, 0: no instance exists without cgo.
func LiveInstances() (live, limit int64) { return 0, 0 }

// ReleaseNativeMemory does nothing without cgo: no instance allocated any.
func ReleaseNativeMemory() bool { return false }

// WithInstancePool checks its pool (unused without cgo).
func WithInstancePool(p Pool) EngineOption {
	return func(*Engine) error {
		_, err := p.withDefaults()
		return err
	}
}

// Wat2Wasm fails with ErrNoCgo.
func Wat2Wasm(string) ([]byte, error) { return nil, ErrNoCgo }

// ErrNoPreinit is wrapped by Preinitialize when a module's start-up cannot
// be baked into a new module.
var ErrNoPreinit = errors.New("sandbox: cannot pre-initialise")

// Preinitialize fails with ErrNoCgo.
func (e *Engine) Preinitialize(context.Context, []byte, InstanceConfig) (*Module, error) {
	return nil, ErrNoCgo
}

// Snapshot is an instance's state at rest; none exist without cgo.
type Snapshot struct{ _ [0]func() }

// Bytes is 0: no snapshot exists without cgo.
func (s *Snapshot) Bytes() int { return 0 }

// MemorySize is 0: no snapshot exists without cgo.
func (s *Snapshot) MemorySize() uint64 { return 0 }

// Snapshottable is ErrNoCgo.
func (m *Module) Snapshottable() error { return ErrNoCgo }

// Restore fails with ErrNoCgo.
func (m *Module) Restore(context.Context, InstanceConfig, *Snapshot) (*Instance, error) {
	return nil, ErrNoCgo
}

// Snapshot fails with ErrNoCgo.
func (in *Instance) Snapshot() (*Snapshot, error) { return nil, ErrNoCgo }

// ToolFunc runs a tool call for a guest.
type ToolFunc func(ctx context.Context, name string, args []byte) (status tool.Status, content []byte)

// Instance is one running guest; none exist without cgo.
type Instance struct{ _ [0]func() }

// MemoryBytes is 0: no instance exists without cgo.
func (in *Instance) MemoryBytes() int64 { return 0 }

// FuelUsed is 0: no instance exists without cgo.
func (in *Instance) FuelUsed() uint64 { return 0 }

// Accepts fails with ErrNoCgo.
func (in *Instance) Accepts(*acl.Message) error { return ErrNoCgo }

// Handle fails with ErrNoCgo.
func (in *Instance) Handle(context.Context, []*acl.Message) ([]*acl.Message, error) {
	return nil, ErrNoCgo
}

// Close does nothing.
func (in *Instance) Close() error { return nil }
