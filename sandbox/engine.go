//go:build cgo

package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// ErrClosed is returned by an Engine used after Close.
var ErrClosed = errors.New("sandbox: engine closed")

// Engine compiles modules and drives the epoch clock that enforces batch
// deadlines. It is safe for concurrent use.
type Engine struct {
	eng      *wasmtime.Engine
	tick     time.Duration
	cacheDir string
	logger   *slog.Logger
	pool     *Pool // WithInstancePool; nil: wasmtime's on-demand allocator
	// poolHolds keeps the pool's slots in the process's budget: one for
	// the engine until Close, one per live instance (enter, leave).
	poolHolds atomic.Int64

	mu      sync.Mutex
	modules map[[32]byte]*Module
	byBytes map[contentKey]*Module // the same modules, by a fast hash of their bytes
	seeds   contentSeeds
	linker  *wasmtime.Linker
	closed  bool

	// compiling counts compilations still running for a caller that gave
	// up (its context ended): Close waits for them, since they use eng.
	compiling sync.WaitGroup

	stop chan struct{}
	done chan struct{}
}

// EngineOption configures NewEngine.
type EngineOption func(*Engine) error

// WithCacheDir keeps compiled modules in dir (created if missing, readable
// only by this user), so a large guest (a Go guest takes 1-2 s to compile,
// a language engine seconds) compiles once per machine rather than
// once per process. Processes sharing dir compile each module once between
// them: on a miss the first compiles while the others wait for its
// artifact (on unix; a lock file KEY.cwasm.lock stays beside each
// artifact). A corrupt or incompatible file is recompiled and replaced,
// never fatal.
//
// Loading a compiled module runs its machine code, so dir must be as
// trusted as the program's binary: a directory that belongs to another
// user or that others can write to is refused with ErrUnsafeCacheDir.
func WithCacheDir(dir string) EngineOption {
	return func(e *Engine) error {
		if dir == "" {
			return errors.New("sandbox: WithCacheDir: empty directory")
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("sandbox: WithCacheDir: %w", err)
		}
		if err := checkCacheDir(dir); err != nil {
			return fmt.Errorf("sandbox: WithCacheDir: %w", err)
		}
		e.cacheDir = dir
		return nil
	}
}

// WithEpochTick sets the resolution of batch deadlines (default 1ms): a
// background goroutine advances the engine's epoch this often, and a batch
// deadline is rounded up to whole ticks.
func WithEpochTick(d time.Duration) EngineOption {
	return func(e *Engine) error {
		if d <= 0 {
			return fmt.Errorf("sandbox: WithEpochTick: %v is not positive", d)
		}
		e.tick = d
		return nil
	}
}

// WithLogger sets the logger for engine events (cache misses, recompiles).
// Default, and what a nil l means: discard.
func WithLogger(l *slog.Logger) EngineOption {
	return func(e *Engine) error {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		e.logger = l
		return nil
	}
}

// NewEngine returns an engine with epoch interruption and fuel metering
// enabled, and starts its epoch ticker; Close stops it.
func NewEngine(opts ...EngineOption) (*Engine, error) {
	e := &Engine{
		tick:    time.Millisecond,
		logger:  slog.New(slog.DiscardHandler),
		modules: make(map[[32]byte]*Module),
		byBytes: make(map[contentKey]*Module),
		seeds:   newContentSeeds(),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("sandbox: nil EngineOption")
		}
		if err := o(e); err != nil {
			return nil, err
		}
	}
	cfg := wasmtime.NewConfig()
	cfg.SetEpochInterruption(true)
	cfg.SetConsumeFuel(true)
	if e.pool != nil {
		if err := e.usePool(cfg); err != nil {
			return nil, err
		}
	}
	e.eng = wasmtime.NewEngineWithConfig(cfg)
	go e.ticker()
	return e, nil
}

func (e *Engine) ticker() {
	defer close(e.done)
	t := time.NewTicker(e.tick)
	defer t.Stop()
	start, ticks := time.Now(), int64(0)
	for {
		select {
		case now := <-t.C:
			// A ticker drops ticks when this goroutine runs late (a busy
			// machine); catch up from the wall clock so a deadline means
			// wall time, not "ticks delivered".
			for due := int64(now.Sub(start) / e.tick); ticks < due; ticks++ {
				e.eng.IncrementEpoch()
			}
		case <-e.stop:
			return
		}
	}
}

// Close stops the epoch ticker and releases compiled modules. Instances
// must be closed first, and no Compile or Instantiate may be running (the
// caxton runtime guarantees both). A compilation whose caller's context
// ended goes on in the background (see Compile); Close waits for it.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	e.compiling.Wait()
	e.mu.Lock()
	mods := e.modules
	e.modules, e.byBytes = nil, nil
	e.mu.Unlock()
	close(e.stop)
	<-e.done
	for _, m := range mods {
		m.mod.Close()
	}
	if e.linker != nil {
		e.linker.Close()
	}
	e.eng.Close()
	e.leave() // the engine's own hold on its pool's slots
	return nil
}

// enter admits a new instance unless the engine is closed, and holds the
// engine's pool slots for it: wasmtime frees a pool when its last store
// goes, so the process's budget (poolSlots) is given back only then — an
// instance a caller left open after Close still holds its engine's
// reservation. Every true is paired with leave.
func (e *Engine) enter() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	if e.pool != nil {
		e.poolHolds.Add(1)
	}
	return true
}

// leave drops a hold on the pool's slots (an instance's, or the engine's
// own at Close); the last one gives them back to the process's budget.
func (e *Engine) leave() {
	if e.pool != nil && e.poolHolds.Add(-1) == 0 {
		releasePool(e.pool.Instances)
	}
}

// Compile returns the compiled module for a WebAssembly binary, from the
// cache when the same bytes were compiled before. Only the binary format is
// accepted here: anything else (WebAssembly text included; see CompileText)
// fails with KindInvalidModule, so garbage is reported as garbage rather
// than as a text syntax error.
//
// Errors about the bytes are *Error values (KindInvalidModule, or
// KindABIViolation for a valid module that breaks Guest ABI v1) with an
// empty Agent: a module is shared by content and belongs to no agent.
//
// Compiling a large guest takes seconds and wasmtime cannot interrupt it.
// So ctx is checked before anything is done, and when it ends during the
// compilation Compile returns ctx's error (wrapped) at once while the
// compilation finishes in the background and fills the cache: the next
// Compile of the same bytes finds it there. Close waits for such
// compilations.
func (e *Engine) Compile(ctx context.Context, wasm []byte) (*Module, error) {
	if ctx == nil {
		return nil, errors.New("sandbox: Compile: nil context")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sandbox: compile: %w", err)
	}
	switch {
	case len(wasm) == 0:
		return nil, invalidModule("empty module (0 bytes)")
	case !bytes.HasPrefix(wasm, wasmMagic):
		detail := `not a WebAssembly binary module: it does not begin with "\0asm"`
		if looksLikeText(wasm) {
			detail += " (it looks like WebAssembly text, which is accepted only when passed explicitly as text)"
		}
		return nil, invalidModule("%s", detail)
	}
	ck := e.seeds.key(wasm)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	if m, ok := e.byBytes[ck]; ok {
		e.mu.Unlock()
		return m, nil
	}
	// Counted under the lock that Close takes to set closed, so Close
	// either sees this compilation and waits for it or refused it above.
	e.compiling.Add(1)
	e.mu.Unlock()
	return e.finishInBackground(ctx, "compile", func() (*Module, error) { return e.compileNew(ck, wasm) })
}

// finishInBackground runs work, a compilation counted in e.compiling (it
// marks it done), and returns its result; if ctx ends first it returns
// ctx's error at once and work finishes in the background, filling the
// cache for the next call (Close waits for it).
func (e *Engine) finishInBackground(ctx context.Context, what string, work func() (*Module, error)) (*Module, error) {
	if ctx.Done() == nil { // a context that never ends: no goroutine needed
		defer e.compiling.Done()
		return work()
	}
	type result struct {
		m   *Module
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer e.compiling.Done()
		m, err := work()
		done <- result{m, err}
	}()
	select {
	case r := <-done:
		return r.m, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("sandbox: %s (it goes on in the background and fills the cache): %w", what, ctx.Err())
	}
}

// compileNew compiles bytes not in the cache and adds the module to it.
// It runs without the lock, so instantiations of other modules (restarts,
// spawns) are not held up. Two concurrent compiles of the same bytes both
// work; one result wins.
func (e *Engine) compileNew(ck contentKey, wasm []byte) (*Module, error) {
	if name := reservedExport(wasm); name != "" {
		return nil, &Error{Kind: KindABIViolation, Detail: fmt.Sprintf("export %q: names beginning with %q are reserved for the host", name, reservedPrefix)}
	}
	key := sha256.Sum256(wasm)
	mod, err := e.load(key, wasm)
	if err != nil {
		return nil, err
	}
	return e.install(key, mod, &ck)
}

// install adds a compiled module to the cache under key (and under its
// bytes' content key, if ck is set), or returns the one a concurrent
// compilation installed first.
func (e *Engine) install(key [32]byte, mod *wasmtime.Module, ck *contentKey) (*Module, error) {
	m, err := newModule(e, key, mod)
	if err != nil {
		mod.Close()
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if prev, ok := e.modules[key]; ok {
		mod.Close()
		if ck != nil {
			e.byBytes[*ck] = prev
		}
		return prev, nil
	}
	e.modules[key] = m
	if ck != nil {
		e.byBytes[*ck] = m
	}
	if e.closed {
		// Close is waiting for this compilation and releases every module
		// in the map afterwards, this one included; the caller is told the
		// engine closed.
		return nil, ErrClosed
	}
	return m, nil
}

// CompileText compiles a module written in the WebAssembly text format
// (WAT), the way tests and small hand-written guests come. It is Compile of
// the binary the text translates to, so it shares Compile's cache, errors
// and use of ctx; text that does not parse fails with KindInvalidModule.
func (e *Engine) CompileText(ctx context.Context, wat string) (*Module, error) {
	bin, err := Wat2Wasm(wat)
	if err != nil {
		return nil, err
	}
	return e.Compile(ctx, bin)
}

// Wat2Wasm translates WebAssembly text to the binary format; text that
// does not parse fails with KindInvalidModule.
func Wat2Wasm(wat string) ([]byte, error) {
	if strings.TrimSpace(wat) == "" {
		return nil, invalidModule("empty module (no WebAssembly text)")
	}
	bin, err := wasmtime.Wat2Wasm(wat)
	if err != nil {
		return nil, invalidModule("invalid WebAssembly text: %s", cleanMessage(err.Error()))
	}
	return bin, nil
}

// CompileFile compiles the module in the file at path: WebAssembly text if
// the name ends in ".wat" (see IsTextFile), the binary format otherwise.
// ctx is used as by Compile.
func (e *Engine) CompileFile(ctx context.Context, path string) (*Module, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if IsTextFile(path) {
		return e.CompileText(ctx, string(b))
	}
	return e.Compile(ctx, b)
}

// IsTextFile reports whether CompileFile reads the file at path as
// WebAssembly text: its name ends in ".wat" (in any case).
func IsTextFile(path string) bool { return strings.EqualFold(filepath.Ext(path), ".wat") }

var wasmMagic = []byte("\x00asm")

// looksLikeText reports whether b starts, after white space, like a WAT
// module: with a parenthesis or a comment.
func looksLikeText(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && (b[0] == '(' || bytes.HasPrefix(b, []byte(";;")))
}

func invalidModule(format string, args ...any) *Error {
	return &Error{Kind: KindInvalidModule, Detail: fmt.Sprintf(format, args...)}
}

// load compiles wasm, going through the disk cache when one is configured.
func (e *Engine) load(key [32]byte, wasm []byte) (*wasmtime.Module, error) {
	return e.loadWith(key, func() ([]byte, error) { return wasm, nil })
}

// loadWith is load of the bytes produce makes, called only when the disk
// cache has no artifact for key.
func (e *Engine) loadWith(key [32]byte, produce func() ([]byte, error)) (*wasmtime.Module, error) {
	if e.cacheDir == "" {
		wasm, err := produce()
		if err != nil {
			return nil, err
		}
		return e.compile(wasm)
	}
	path := filepath.Join(e.cacheDir, hex.EncodeToString(key[:])+".cwasm")
	if mod, ok := e.cached(path, false); ok {
		return mod, nil
	}
	if unlock, ok := lockCompile(path+".lock", compileLockWait); ok {
		defer unlock()
		// Another process may have compiled it while this one waited.
		if mod, ok := e.cached(path, true); ok {
			return mod, nil
		}
	}
	wasm, err := produce()
	if err != nil {
		return nil, err
	}
	mod, err := e.compile(wasm)
	if err != nil {
		return nil, err
	}
	if blob, err := mod.Serialize(); err != nil {
		e.logger.Warn("sandbox: cannot serialize module for the cache", "error", err)
	} else if err := writeAtomic(path, sealArtifact(blob)); err != nil {
		e.logger.Warn("sandbox: cannot write module cache", "path", path, "error", err)
	}
	return mod, nil
}

// compileLockWait bounds the wait for another process compiling the same
// module into a shared cache (a cold compile of a large guest takes tens
// of seconds on a busy machine); past it this process compiles too.
const compileLockWait = 3 * time.Minute

// cached loads the artifact at path, if there is a usable one. An unusable
// one is logged (it is then recompiled and replaced) unless quiet.
func (e *Engine) cached(path string, quiet bool) (*wasmtime.Module, bool) {
	blob, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	mod, err := e.deserialize(blob)
	if err != nil {
		if !quiet {
			e.logger.Warn("sandbox: cached module unusable; recompiling", "path", path, "error", err)
		}
		return nil, false
	}
	return mod, true
}

// Cached artifacts are sealed with a magic string, the payload length and a
// CRC-32C, because wasmtime trusts serialized modules completely: handing
// it a truncated file crashes the process (SIGBUS), so anything that does
// not check out is recompiled instead. (The cache directory is as trusted
// as the binary; the checksum guards against corruption, not tampering.)
// The number changes whenever what is compiled for the same bytes does: 2
// adds the exports of hidden tables, 3 of hidden mutable globals (exportHidden).
const artifactMagic = "caxton-cwasm-3\x00"

func sealArtifact(blob []byte) []byte {
	out := make([]byte, 0, len(artifactMagic)+12+len(blob))
	out = append(out, artifactMagic...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(blob)))
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(blob, castagnoli))
	return append(out, blob...)
}

func (e *Engine) deserialize(sealed []byte) (*wasmtime.Module, error) {
	h := len(artifactMagic) + 12
	if len(sealed) < h || string(sealed[:len(artifactMagic)]) != artifactMagic {
		return nil, errors.New("not a caxton artifact")
	}
	n := binary.LittleEndian.Uint64(sealed[len(artifactMagic):])
	sum := binary.LittleEndian.Uint32(sealed[len(artifactMagic)+8:])
	blob := sealed[h:]
	if uint64(len(blob)) != n || crc32.Checksum(blob, castagnoli) != sum {
		return nil, errors.New("artifact is truncated or corrupt")
	}
	return wasmtime.NewModuleDeserialize(e.eng, blob)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (e *Engine) compile(wasm []byte) (*wasmtime.Module, error) {
	if rewritten := exportHidden(wasm); len(rewritten) != len(wasm) {
		if mod, err := wasmtime.NewModule(e.eng, rewritten); err == nil {
			return mod, nil
		}
		// Report what is wrong with the module as the guest wrote it.
	}
	mod, err := wasmtime.NewModule(e.eng, wasm)
	if err != nil {
		return nil, invalidModule("%s", cleanMessage(err.Error()))
	}
	return mod, nil
}

// writeAtomic writes via a temporary file and rename, so a crash never
// leaves a half-written artifact under the final name.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
