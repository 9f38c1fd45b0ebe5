package sandbox_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// initGuest exports caxton_init: it accepts no init data or data that
// starts with anything but "no" or "-"; it refuses "no..." with a
// two-line reason (a data segment at 2048) and "-..." with -7.
const initGuest = `
  (data (i32.const 2048) "not today:\nsee line 2")
  (func (export "caxton_init") (param $ptr i32) (param $len i32) (result i64)
    (if (i32.eqz (local.get $len)) (then (return (i64.const 0))))
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 110))
      (then (return (i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.const 21)))))
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 45))
      (then (return (i64.const -7))))
    (i64.const 0))`

func TestInitDataIsAcceptedOrRefusedWithAReason(t *testing.T) {
	e := newEngine(t)
	m, err := e.CompileText(context.Background(), testguest.WATGuest(initGuest, `(i64.const 0)`))
	require.NoError(t, err)
	assert.True(t, m.TakesInitData())

	for name, tc := range map[string]struct {
		init   string
		kind   sandbox.Kind
		detail string
	}{
		"accepted":         {init: "function handle() {}"},
		"none":             {init: ""},
		"refused":          {init: "no thanks", kind: sandbox.KindInitFailed, detail: "not today: | see line 2"},
		"refused, no text": {init: "-", kind: sandbox.KindInitFailed, detail: "caxton_init returned -7"},
	} {
		t.Run(name, func(t *testing.T) {
			in, err := m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "a", Init: []byte(tc.init)})
			if tc.kind == 0 {
				require.NoError(t, err)
				require.NoError(t, in.Close())
				return
			}
			var se *sandbox.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.kind, se.Kind)
			assert.Equal(t, tc.detail, se.Detail)
			assert.Equal(t, "init failed", se.Kind.String())
		})
	}
}

func TestInitDataForAModuleWithoutInitIsAViolation(t *testing.T) {
	e := newEngine(t)
	m, err := e.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	assert.False(t, m.TakesInitData())
	_, err = m.Instantiate(context.Background(), sandbox.InstanceConfig{Agent: "a", Init: []byte("print(1)")})
	var se *sandbox.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sandbox.KindABIViolation, se.Kind)
	assert.Contains(t, se.Detail, "does not export caxton_init")

	_, err = e.CompileText(context.Background(), testguest.WATGuest(`(func (export "caxton_init") (result i32) (i32.const 0))`, `(i64.const 0)`))
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sandbox.KindABIViolation, se.Kind)
	assert.Contains(t, se.Detail, "caxton_init must be a function (i32, i32) -> (i64)")
}
