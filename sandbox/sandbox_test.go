package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newEngine(t *testing.T, opts ...sandbox.EngineOption) *sandbox.Engine {
	t.Helper()
	e, err := sandbox.NewEngine(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	return e
}

func instantiate(t *testing.T, e *sandbox.Engine, src string, cfg sandbox.InstanceConfig) *sandbox.Instance {
	t.Helper()
	m, err := e.CompileText(context.Background(), src)
	require.NoError(t, err)
	if cfg.Agent == "" {
		cfg.Agent = "guest"
	}
	in, err := m.Instantiate(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = in.Close() })
	return in
}

func batchOf(n int) []*acl.Message {
	out := make([]*acl.Message, n)
	for i := range out {
		out[i] = &acl.Message{Performative: acl.Inform, Sender: "host", Receivers: []acl.AgentID{"guest"}, Content: []byte("x")}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOutboxIsDecoded(t *testing.T) {
	e := newEngine(t)
	reply := &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"host"}, Content: []byte("pong")}
	in := instantiate(t, e, testguest.WATOutbox(reply), sandbox.InstanceConfig{})
	out, err := in.Handle(context.Background(), batchOf(3))
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Equal(t, "pong", string(out[0].Content))
	assert.Equal(t, []acl.AgentID{"host"}, out[0].Receivers)
	assert.Greater(t, in.FuelUsed(), uint64(0))

	// Batches larger than the first buffer make the host ask for a new one.
	big := batchOf(1)
	big[0].Content = bytes.Repeat([]byte("y"), 200_000)
	_, err = in.Handle(context.Background(), big)
	require.NoError(t, err)
}

func TestTrapsAndViolationsAreClassified(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		limits sandbox.Limits
		kind   sandbox.Kind
		broken bool
	}{
		{"infinite loop hits the deadline", testguest.WATLoop, sandbox.Limits{BatchDeadline: 20 * time.Millisecond}, sandbox.KindDeadline, true},
		{"infinite loop runs out of fuel", testguest.WATLoop, sandbox.Limits{FuelPerBatch: 100_000}, sandbox.KindOutOfFuel, true},
		{"memory bomb", testguest.WATMemoryBomb, sandbox.Limits{MaxMemory: 4 << 20}, sandbox.KindMemory, true},
		{"table bomb", testguest.WATTableBomb, sandbox.Limits{}, sandbox.KindTable, true},
		{"deep recursion", testguest.WATRecursion, sandbox.Limits{}, sandbox.KindStackOverflow, true},
		{"unreachable", testguest.WATUnreachable, sandbox.Limits{}, sandbox.KindUnreachable, true},
		{"out of bounds", testguest.WATOutOfBounds, sandbox.Limits{}, sandbox.KindOutOfBounds, true},
		{"divide by zero", testguest.WATDivZero, sandbox.Limits{}, sandbox.KindOther, true},
		{"huge outbox", testguest.WATHugeOutbox, sandbox.Limits{MaxOutboxMessages: 100}, sandbox.KindABIViolation, true},
		{"outbox outside memory", testguest.WATOutboxOutside, sandbox.Limits{}, sandbox.KindABIViolation, true},
		{"malformed outbox", testguest.WATMalformed, sandbox.Limits{}, sandbox.KindABIViolation, true},
		{"status bad input", testguest.WATStatusBad, sandbox.Limits{}, sandbox.KindABIViolation, true},
		{"unknown status", testguest.WATStatusOdd, sandbox.Limits{}, sandbox.KindABIViolation, true},
		{"handler failed", testguest.WATStatusFailed, sandbox.Limits{}, sandbox.KindGuestFailed, false},
		{"handler failed permanently", testguest.WATStatusPerm, sandbox.Limits{}, sandbox.KindGuestPermanent, false},
	}
	e := newEngine(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := instantiate(t, e, tc.src, sandbox.InstanceConfig{Agent: "hostile", Limits: tc.limits})
			out, err := in.Handle(context.Background(), batchOf(2))
			assert.Nil(t, out)
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.kind, se.Kind, "detail: %s", se.Detail)
			assert.Equal(t, tc.broken, se.Broken())
			assert.Equal(t, acl.AgentID("hostile"), se.Agent)
			assert.ErrorIs(t, err, sandbox.ErrSandbox)
			assert.NotEmpty(t, se.Detail)
		})
	}
}

func TestTablesOverTheLimitFailToStart(t *testing.T) {
	e := newEngine(t)
	for name, src := range map[string]string{
		"huge initial table": testguest.WATHugeTable,
		"too many tables":    testguest.WATGuest(strings.Repeat(`(table 1 funcref) `, 5), `(i64.const 0)`),
	} {
		t.Run(name, func(t *testing.T) {
			m, err := e.CompileText(context.Background(), src)
			require.NoError(t, err)
			_, err = m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "tables"})
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sandbox.KindTable, se.Kind, "detail: %s", se.Detail)
			assert.Equal(t, "tables", string(se.Agent))
			assert.Contains(t, err.Error(), "table limit")
		})
	}
}

func TestOutOfFuelReportsFuelUsed(t *testing.T) {
	e := newEngine(t)
	in := instantiate(t, e, testguest.WATLoop, sandbox.InstanceConfig{Limits: sandbox.Limits{FuelPerBatch: 50_000}})
	_, err := in.Handle(context.Background(), batchOf(1))
	var se *sandbox.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, uint64(50_000), se.FuelUsed)
}

func TestTrapOnThirdCall(t *testing.T) {
	e := newEngine(t)
	in := instantiate(t, e, testguest.WATTrapThird, sandbox.InstanceConfig{})
	for i := 1; i <= 2; i++ {
		_, err := in.Handle(context.Background(), batchOf(1))
		require.NoError(t, err, "call %d", i)
	}
	_, err := in.Handle(context.Background(), batchOf(1))
	var se *sandbox.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sandbox.KindUnreachable, se.Kind)
}

func TestModulesBreakingTheABIAreRefused(t *testing.T) {
	e := newEngine(t)
	for name, src := range map[string]string{
		"missing caxton_handle": testguest.WATNoHandle,
		"foreign import":        testguest.WATBadImport,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.CompileText(context.Background(), src)
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sandbox.KindABIViolation, se.Kind)
		})
	}
	m, err := e.CompileText(context.Background(), testguest.WATWrongVersion)
	require.NoError(t, err)
	_, err = m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "v2"})
	var se *sandbox.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sandbox.KindABIViolation, se.Kind)
	assert.Contains(t, se.Detail, "version 2")

	_, err = e.CompileText(context.Background(), "(module (func")
	assert.Error(t, err)
	_, err = e.Compile(context.Background(), nil)
	assert.Error(t, err)
}

func TestHostImportsLogAndClock(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEngine(t)
	fixed := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	in := instantiate(t, e, testguest.WATLogsData, sandbox.InstanceConfig{Agent: "talker", Logger: logger, Now: func() time.Time { return fixed }})
	_, err := in.Handle(context.Background(), batchOf(1))
	require.NoError(t, err)
	assert.Contains(t, buf.String(), `level=WARN msg="hello from wat" agent=talker`)
}

func TestModuleCacheInMemoryAndOnDisk(t *testing.T) {
	dir := t.TempDir()
	e1 := newEngine(t, sandbox.WithCacheDir(dir))
	m1, err := e1.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	m2, err := e1.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	assert.Same(t, m1, m2, "same bytes compile once")
	files, err := filepath.Glob(filepath.Join(dir, "*.cwasm"))
	require.NoError(t, err)
	require.Len(t, files, 1)

	// A second engine (another process, say) loads the artifact; a corrupt
	// artifact is recompiled and replaced.
	e2 := newEngine(t, sandbox.WithCacheDir(dir))
	_, err = e2.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(files[0], []byte("garbage"), 0o644))
	e3 := newEngine(t, sandbox.WithCacheDir(dir))
	m3, err := e3.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	in, err := m3.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "a"})
	require.NoError(t, err)
	require.NoError(t, in.Close())
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.NotEqual(t, "garbage", string(b))
}

func TestInstancesAreIsolated(t *testing.T) {
	e := newEngine(t)
	bad := instantiate(t, e, testguest.WATUnreachable, sandbox.InstanceConfig{Agent: "bad"})
	good := instantiate(t, e, testguest.WATNop, sandbox.InstanceConfig{Agent: "good"})
	_, err := bad.Handle(context.Background(), batchOf(1))
	require.Error(t, err)
	_, err = good.Handle(context.Background(), batchOf(1))
	require.NoError(t, err)
	require.NoError(t, bad.Close())
	require.NoError(t, bad.Close(), "idempotent")
	_, err = bad.Handle(context.Background(), batchOf(1))
	assert.True(t, errors.Is(err, sandbox.ErrSandbox))
	assert.False(t, strings.Contains(err.Error(), "panic"))
}

func TestSharedMemoryIsRefused(t *testing.T) {
	e := newEngine(t)
	src := strings.Replace(testguest.WATNop, `(memory (export "memory") 2)`, `(memory (export "memory") 2 10 shared)`, 1)
	require.NotEqual(t, testguest.WATNop, src)
	_, err := e.CompileText(context.Background(), src)
	var se *sandbox.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sandbox.KindABIViolation, se.Kind)
}

func TestHugeLogRequestsAreCutBeforeCopying(t *testing.T) {
	var buf syncBuffer
	e := newEngine(t)
	// log(level, 0, 16 MiB): the whole memory, far over the log limit.
	src := testguest.WATGuest(`(import "caxton" "log" (func $log (param i32 i32 i32)))`,
		`(drop (memory.grow (i32.const 256))) (call $log (i32.const 0) (i32.const 0) (i32.const 16000000)) (i64.const 0)`)
	in := instantiate(t, e, src, sandbox.InstanceConfig{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	_, err := in.Handle(context.Background(), batchOf(1))
	require.NoError(t, err)
	assert.Less(t, len(buf.String()), 1<<20, "64 KiB of text (escaped by the handler), not 16 MB")
	assert.Contains(t, buf.String(), "(truncated)")
}
