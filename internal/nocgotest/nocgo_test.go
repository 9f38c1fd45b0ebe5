//go:build !cgo

package nocgotest_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNativeAgentsWorkWithoutCgo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a safety net
	defer cancel()
	rt, err := caxton.New()
	require.NoError(t, err)
	defer rt.Close(ctx)
	require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{
		Name: "billing",
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			return mc.Reply(ctx, acl.Inform, []byte("refund issued"))
		}),
	}))
	reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"billing"}, Content: []byte("refund?")})
	require.NoError(t, err)
	assert.Equal(t, "refund issued", string(reply.Content))
}

func TestWasmSpawnWithoutCgoSaysWhy(t *testing.T) {
	ctx := context.Background()
	rt, err := caxton.New()
	require.NoError(t, err)
	defer rt.Close(ctx)
	for name, w := range map[acl.AgentID]*caxton.WasmSpec{
		"binary": {Module: []byte("\x00asm\x01\x00\x00\x00")},
		"text":   {WAT: "(module)"},
	} {
		err := rt.Spawn(ctx, caxton.AgentSpec{Name: name, Wasm: w})
		require.ErrorIs(t, err, sandbox.ErrNoCgo, name)
		assert.Contains(t, err.Error(), "built without cgo: wasm agents need CGO_ENABLED=1")
		assert.Contains(t, err.Error(), string(name), "the error names the agent")
	}
	_, err = sandbox.NewEngine()
	require.ErrorIs(t, err, sandbox.ErrNoCgo)
	_, err = sandbox.NewEngine(sandbox.WithCacheDir(""))
	require.Error(t, err, "options are still checked")
	assert.NotErrorIs(t, err, sandbox.ErrNoCgo)
}
