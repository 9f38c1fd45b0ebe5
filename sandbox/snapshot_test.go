package sandbox_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cCounter compiles the C counter agent (guest/c/agents/counter.c): it
// answers each message with how many it has seen, a count in a static.
func cCounter(t *testing.T, e *sandbox.Engine) *sandbox.Module {
	t.Helper()
	code, err := os.ReadFile(filepath.Join(testguest.ModuleRoot(), "guest", "c", "agents", "counter.wasm"))
	require.NoError(t, err)
	m, err := e.Compile(context.Background(), code)
	require.NoError(t, err)
	return m
}

// counts sends n messages, one batch each, and returns the replies' contents.
func counts(t *testing.T, in *sandbox.Instance, n int) []string {
	t.Helper()
	var got []string
	for range n {
		out, err := in.Handle(context.Background(), batchOf(1))
		require.NoError(t, err)
		require.Len(t, out, 1)
		got = append(got, string(out[0].Content))
	}
	return got
}

// snapshotAfterOne starts an instance of m, hands it one message, and
// returns its snapshot, the instance closed.
func snapshotAfterOne(t *testing.T, m *sandbox.Module, cfg sandbox.InstanceConfig) *sandbox.Snapshot {
	t.Helper()
	ctx := context.Background()
	in, err := m.Instantiate(ctx, cfg)
	require.NoError(t, err)
	_, err = in.Handle(ctx, batchOf(1))
	require.NoError(t, err)
	snap, err := in.Snapshot()
	require.NoError(t, err)
	require.NoError(t, in.Close())
	return snap
}

func snapCfg() sandbox.InstanceConfig {
	return sandbox.InstanceConfig{Agent: "counter", Snapshots: true}
}

func TestARestoredInstanceGoesOnFromItsSnapshot(t *testing.T) {
	e := newEngine(t)
	m := cCounter(t, e)
	require.NoError(t, m.Snapshottable())
	in, err := m.Instantiate(context.Background(), snapCfg())
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2", "3"}, counts(t, in, 3))
	snap, err := in.Snapshot()
	require.NoError(t, err)
	require.NoError(t, in.Close())
	assert.Less(t, snap.Bytes(), 16<<10, "a counter's snapshot keeps what differs from the image, not its %d bytes of memory", snap.MemorySize())

	// Each restore starts from the snapshot, independently.
	for range 2 {
		r, err := m.Restore(context.Background(), snapCfg(), snap)
		require.NoError(t, err)
		assert.Equal(t, []string{"4", "5"}, counts(t, r, 2))
		// A restored instance can be snapshotted again.
		again, err := r.Snapshot()
		require.NoError(t, err)
		require.NoError(t, r.Close())
		r2, err := m.Restore(context.Background(), snapCfg(), again)
		require.NoError(t, err)
		assert.Equal(t, []string{"6"}, counts(t, r2, 1))
		require.NoError(t, r2.Close())
	}
	// A fresh instance is not affected by any of it.
	fresh, err := m.Instantiate(context.Background(), snapCfg())
	require.NoError(t, err)
	defer fresh.Close()
	assert.Equal(t, []string{"1"}, counts(t, fresh, 1))
}

// Hidden mutable globals of every numeric type, and memory the guest grew
// past its image, come back as they were: a batch on a restored instance
// answers as the same batch on an instance that never slept.
func TestSnapshotsKeepGlobalsAndGrownMemory(t *testing.T) {
	e := newEngine(t)
	reply := &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"host"}, Content: []byte("????????")}
	enc := encodeOutbox(reply)
	at := 1024 + bytes.Index(enc, []byte("????????"))
	// Each batch: $i += 1, $l += 1<<40, $f += 0.5, $d += 0.25, one more
	// page of memory with $i written at its start; the reply's content is
	// $i + $l + 4*$f + 1000*$d + the i32 at the start of the page before
	// the new one (the one the last batch grew).
	guest := testguest.WATGuest(`
  (data (i32.const 1024) "`+testguest.WATData(enc)+`")
  (global $i (mut i32) (i32.const 0))
  (global $l (mut i64) (i64.const 0))
  (global $f (mut f32) (f32.const 0))
  (global $d (mut f64) (f64.const 0))
  (global $old (mut i32) (i32.const 0))`, `
    (global.set $i (i32.add (global.get $i) (i32.const 1)))
    (global.set $l (i64.add (global.get $l) (i64.const 1099511627776)))
    (global.set $f (f32.add (global.get $f) (f32.const 0.5)))
    (global.set $d (f64.add (global.get $d) (f64.const 0.25)))
    (global.set $old (memory.grow (i32.const 1)))
    (i32.store (i32.mul (global.get $old) (i32.const 65536)) (global.get $i))
    (i64.store (i32.const `+strconv.Itoa(at)+`) (i64.add
      (i64.add (i64.extend_i32_u (global.get $i)) (global.get $l))
      (i64.add
        (i64.add (i64.trunc_f32_u (f32.mul (global.get $f) (f32.const 4))) (i64.trunc_f64_u (f64.mul (global.get $d) (f64.const 1000))))
        (i64.extend_i32_u (i32.load (i32.mul (i32.sub (global.get $old) (i32.const 1)) (i32.const 65536)))))))
    (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const `+strconv.Itoa(len(enc))+`))`)
	m, err := e.CompileText(context.Background(), guest)
	require.NoError(t, err)
	require.NoError(t, m.Snapshottable())
	answer := func(in *sandbox.Instance) uint64 {
		out, err := in.Handle(context.Background(), batchOf(1))
		require.NoError(t, err)
		require.Len(t, out, 1)
		return binary.LittleEndian.Uint64(out[0].Content)
	}

	ref, err := m.Instantiate(context.Background(), snapCfg())
	require.NoError(t, err)
	defer ref.Close()
	for range 3 {
		answer(ref)
	}
	in, err := m.Instantiate(context.Background(), snapCfg())
	require.NoError(t, err)
	for range 3 {
		answer(in)
	}
	grown := in.MemoryBytes()
	snap, err := in.Snapshot()
	require.NoError(t, err)
	require.NoError(t, in.Close())
	assert.Equal(t, uint64(grown), snap.MemorySize())

	r, err := m.Restore(context.Background(), snapCfg(), snap)
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, grown, r.MemoryBytes())
	want := uint64(4 + 4<<40 + 8 + 1000 + 3)
	assert.Equal(t, want, answer(ref), "the reference")
	assert.Equal(t, want, answer(r), "the restored instance")
}

func TestSnapshotsAreRefusedClearly(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	compile := func(src string) *sandbox.Module {
		m, err := e.CompileText(ctx, src)
		require.NoError(t, err)
		return m
	}
	tests := []struct {
		name string
		m    *sandbox.Module
		want string
	}{
		{"a start function", compile(testguest.WATGuest(`(func $s) (start $s)`, `(i64.const 0)`)), "start function"},
		{"an externref global", compile(testguest.WATGuest(`(global $r (mut externref) (ref.null extern))`, `(i64.const 0)`)), "externref"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Snapshottable()
			require.ErrorIs(t, err, sandbox.ErrNoSnapshot)
			assert.Contains(t, err.Error(), tc.want)
			in, err := tc.m.Instantiate(ctx, snapCfg())
			require.NoError(t, err, "the module still runs")
			defer in.Close()
			_, err = in.Snapshot()
			require.ErrorIs(t, err, sandbox.ErrNoSnapshot)
		})
	}

	t.Run("not started for snapshots", func(t *testing.T) {
		m := cCounter(t, e)
		in, err := m.Instantiate(ctx, sandbox.InstanceConfig{Agent: "counter"})
		require.NoError(t, err)
		defer in.Close()
		_, err = in.Snapshot()
		require.ErrorIs(t, err, sandbox.ErrNoSnapshot)
		assert.Contains(t, err.Error(), "InstanceConfig.Snapshots")
	})
	t.Run("a grown table", func(t *testing.T) {
		m := compile(testguest.WATGuest(`(table $t 1 funcref)`, `(drop (table.grow $t (ref.null func) (i32.const 1))) (i64.const 0)`))
		in, err := m.Instantiate(ctx, snapCfg())
		require.NoError(t, err)
		defer in.Close()
		_, err = in.Snapshot()
		require.NoError(t, err, "not grown yet")
		_, err = in.Handle(ctx, batchOf(1))
		require.NoError(t, err)
		_, err = in.Snapshot()
		require.ErrorIs(t, err, sandbox.ErrNoSnapshot)
		assert.Contains(t, err.Error(), "grew a table")
	})
	t.Run("another module's snapshot", func(t *testing.T) {
		m := cCounter(t, e)
		in, err := m.Instantiate(ctx, snapCfg())
		require.NoError(t, err)
		snap, err := in.Snapshot()
		require.NoError(t, err)
		require.NoError(t, in.Close())
		other := compile(testguest.WATNop)
		_, err = other.Restore(ctx, snapCfg(), snap)
		require.ErrorIs(t, err, sandbox.ErrNoSnapshot)
		_, err = other.Restore(ctx, snapCfg(), nil)
		require.ErrorIs(t, err, sandbox.ErrNoSnapshot)
	})
	t.Run("a memory limit below the snapshot", func(t *testing.T) {
		m := compile(testguest.WATGuest("", `(drop (memory.grow (i32.const 8))) (i64.const 0)`))
		snap := snapshotAfterOne(t, m, snapCfg())
		cfg := snapCfg()
		cfg.Limits.MaxMemory = 4 << 16
		_, err := m.Restore(ctx, cfg, snap)
		var se *sandbox.Error
		require.True(t, errors.As(err, &se), "%v", err)
		assert.Equal(t, sandbox.KindMemory, se.Kind)
	})
}

// Restore does not run start-up: a guest whose _initialize counts its runs
// in memory reports one run after any number of restores.
func TestRestoreSkipsStartUp(t *testing.T) {
	e := newEngine(t)
	// _initialize increments the i32 at 32; each batch replies with its
	// value as one byte of content at offset 2048.
	reply := &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"host"}, Content: []byte("?")}
	out := testguest.WATData(encodeOutbox(reply))
	guest := testguest.WATGuest(`
  (data (i32.const 1024) "`+out+`")
  (func (export "_initialize") (i32.store (i32.const 32) (i32.add (i32.load (i32.const 32)) (i32.const 1))))`,
		`(i32.store8 (i32.const `+strconv.Itoa(1024+bytes.IndexByte(encodeOutbox(reply), '?'))+`) (i32.add (i32.const 48) (i32.load (i32.const 32))))
    (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const `+strconv.Itoa(len(encodeOutbox(reply)))+`))`)
	m, err := e.CompileText(context.Background(), guest)
	require.NoError(t, err)
	in, err := m.Instantiate(context.Background(), snapCfg())
	require.NoError(t, err)
	got, err := in.Handle(context.Background(), batchOf(1))
	require.NoError(t, err)
	assert.Equal(t, "1", string(got[0].Content))
	snap, err := in.Snapshot()
	require.NoError(t, err)
	require.NoError(t, in.Close())
	for range 3 {
		r, err := m.Restore(context.Background(), snapCfg(), snap)
		require.NoError(t, err)
		got, err := r.Handle(context.Background(), batchOf(1))
		require.NoError(t, err)
		assert.Equal(t, "1", string(got[0].Content), "_initialize ran once, before the snapshot")
		require.NoError(t, r.Close())
	}
}

func encodeOutbox(msgs ...*acl.Message) []byte { return abi.AppendBatch(nil, msgs) }

// Start-up may differ between instances (it can read the clock): the
// module's image comes from the first instance, and a later one whose
// start-up grew memory less restores correctly from its snapshot.
func TestARestoreWhoseImageIsLargerThanItsMemory(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	// _initialize grows memory by 4 pages and writes 1 at the new end when
	// caxton.now is before 1,500 s; every batch adds one to the i32 at 32
	// and replies with nothing.
	m, err := e.CompileText(ctx, testguest.WATGuest(`
  (import "caxton" "now" (func $now (result i64)))
  (func (export "_initialize")
    (if (i64.lt_s (call $now) (i64.const 1500000000000))
      (then (i32.store (i32.sub (i32.mul (i32.add (memory.grow (i32.const 4)) (i32.const 4)) (i32.const 65536)) (i32.const 4)) (i32.const 1)))))`,
		`(i32.store (i32.const 32) (i32.add (i32.load (i32.const 32)) (i32.const 1))) (i64.const 0)`))
	require.NoError(t, err)
	at := func(sec int64) sandbox.InstanceConfig {
		return sandbox.InstanceConfig{Agent: "clocked", Snapshots: true, Now: func() time.Time { return time.Unix(sec, 0) }}
	}
	first, err := m.Instantiate(ctx, at(1000)) // makes the image: 6 pages
	require.NoError(t, err)
	defer first.Close()
	snap := snapshotAfterOne(t, m, at(2000)) // 2 pages
	live, _ := sandbox.LiveInstances()
	r, err := m.Restore(ctx, at(2000), snap)
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, int64(2*65536), r.MemoryBytes())
	again, err := r.Snapshot()
	require.NoError(t, err)
	assert.Equal(t, snap.Bytes(), again.Bytes(), "the same state")
	after, _ := sandbox.LiveInstances()
	assert.Equal(t, live+1, after)
}

// A module outlives its engine only as a handle: starting or restoring an
// instance of it then fails with ErrClosed, and nothing leaks.
func TestRestoreAfterTheEngineClosed(t *testing.T) {
	e, err := sandbox.NewEngine()
	require.NoError(t, err)
	m := cCounter(t, e)
	in, err := m.Instantiate(context.Background(), snapCfg())
	require.NoError(t, err)
	snap, err := in.Snapshot()
	require.NoError(t, err)
	require.NoError(t, in.Close())
	require.NoError(t, e.Close())
	live, _ := sandbox.LiveInstances()
	_, err = m.Restore(context.Background(), snapCfg(), snap)
	require.ErrorIs(t, err, sandbox.ErrClosed)
	_, err = m.Instantiate(context.Background(), snapCfg())
	require.ErrorIs(t, err, sandbox.ErrClosed)
	after, _ := sandbox.LiveInstances()
	assert.Equal(t, live, after)
}

// Exports named like the host's own are refused: a guest cannot claim to be
// snapshottable (caxton:state-exported) or hide a global behind a name the
// rewrite would have used.
func TestReservedExportNamesAreRefused(t *testing.T) {
	e := newEngine(t)
	for _, extra := range []string{
		`(export "caxton:state-exported" (memory 0))`,
		`(global (export "caxton:global:1") i32 (i32.const 0))`,
		`(func $s) (start $s) (export "caxton:preinitialized" (func $s))`,
	} {
		_, err := e.CompileText(context.Background(), testguest.WATGuest(extra, `(i64.const 0)`))
		var se *sandbox.Error
		require.ErrorAs(t, err, &se, extra)
		assert.Equal(t, sandbox.KindABIViolation, se.Kind)
		assert.Contains(t, se.Detail, "reserved for the host")
	}
	m, err := e.CompileText(context.Background(), testguest.WATGuest(`(table $t 1 funcref)`, `(table.set $t (i32.const 0) (ref.null func)) (i64.const 0)`))
	require.NoError(t, err, "a guest that writes its table runs")
	err = m.Snapshottable()
	require.ErrorIs(t, err, sandbox.ErrNoSnapshot, "but is not snapshotted: its table would come back as the module wrote it")
	assert.Contains(t, err.Error(), "changes tables")
}
