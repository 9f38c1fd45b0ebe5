package sandbox_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/caxton-go/caxton/internal/testenv"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Guests that never finish starting: in _initialize, or in the module's
// start function.
var (
	watInitLoops  = testguest.WATGuest(`(func (export "_initialize") (loop $l (br $l)))`, `(i64.const 0)`)
	watStartLoops = testguest.WATGuest(`(func $start (loop $l (br $l))) (start $start)`, `(i64.const 0)`)
)

func TestStartUpEndsByTheContextDeadline(t *testing.T) {
	e := newEngine(t)
	for name, src := range map[string]string{"_initialize": watInitLoops, "start function": watStartLoops} {
		t.Run(name, func(t *testing.T) {
			m, err := e.CompileText(context.Background(), src)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			began := time.Now()
			// The batch deadline alone would let start-up run for 20 s.
			_, err = m.Instantiate(ctx, sandbox.InstanceConfig{Agent: "slow", Limits: sandbox.Limits{BatchDeadline: 20 * time.Second}})
			assert.Less(t, time.Since(began), 10*time.Second, "bounded by the context, not the batch deadline")
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sandbox.KindDeadline, se.Kind)
			assert.Equal(t, "slow", string(se.Agent))
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.ErrorIs(t, err, sandbox.ErrSandbox)
			assert.Contains(t, err.Error(), "start-up did not finish by the context's deadline")
		})
	}
}

func TestStartUpIsBoundedByTheBatchDeadline(t *testing.T) {
	e := newEngine(t)
	m, err := e.CompileText(context.Background(), watInitLoops)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = m.Instantiate(ctx, sandbox.InstanceConfig{Agent: "slow", Limits: sandbox.Limits{BatchDeadline: 20 * time.Millisecond}})
	var se *sandbox.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sandbox.KindDeadline, se.Kind)
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "the context did not end")
	assert.Nil(t, se.Err)
}

func TestInstantiateWithAnEndedContext(t *testing.T) {
	e := newEngine(t)
	m, err := e.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = m.Instantiate(ctx, sandbox.InstanceConfig{Agent: "late"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), `agent "late"`)
	//lint:ignore SA1012 a nil context is refused, not a panic
	_, err = m.Instantiate(nil, sandbox.InstanceConfig{Agent: "nil"})
	assert.Error(t, err)
}

func TestCommandModulesAreRefusedWithBuildAdvice(t *testing.T) {
	// The tests' shared artifact cache: a Go guest takes seconds to compile.
	e := newEngine(t, sandbox.WithCacheDir(testenv.ModuleCache()))
	guests := map[string]func(t *testing.T) []byte{
		"wat": func(t *testing.T) []byte {
			return testguest.WATBinary(t, testguest.WATGuest(`(func (export "_start"))`, `(i64.const 0)`))
		},
		"go without -buildmode=c-shared": func(t *testing.T) []byte {
			if testing.Short() {
				t.Skip("builds a Go guest")
			}
			return testguest.BuildCommand(t, "echo")
		},
	}
	for name, wasm := range guests {
		t.Run(name, func(t *testing.T) {
			_, err := e.Compile(context.Background(), wasm(t))
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			t.Log(err)
			assert.Equal(t, sandbox.KindABIViolation, se.Kind)
			for _, advice := range []string{"command module", "reactor", "GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared", "-mexec-model=reactor"} {
				assert.Contains(t, se.Detail, advice)
			}
		})
	}
	// A reactor may export _start as well; it is never called.
	_, err := e.CompileText(context.Background(), testguest.WATGuest(`(func (export "_start") unreachable) (func (export "_initialize"))`, `(i64.const 0)`))
	assert.NoError(t, err)
}

// Host calls work during start-up too: from the module's start function
// (run inside wasmtime's instantiation, before the instance has its memory
// handle) and from _initialize, and each log line reaches the logger.
func TestHostCallsDuringStartUp(t *testing.T) {
	e := newEngine(t)
	src := testguest.WATGuest(`(import "caxton" "log" (func $log (param i32 i32 i32)))
  (data (i32.const 16) "from start")
  (data (i32.const 32) "from init")
  (func $start (call $log (i32.const 0) (i32.const 16) (i32.const 10)))
  (start $start)
  (func (export "_initialize") (call $log (i32.const 0) (i32.const 32) (i32.const 9)))`, `(i64.const 0)`)
	var buf bytes.Buffer
	in := instantiate(t, e, src, sandbox.InstanceConfig{Agent: "early", Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	require.NotNil(t, in)
	assert.Contains(t, buf.String(), `msg="from start" agent=early`)
	assert.Contains(t, buf.String(), `msg="from init" agent=early`)
}
