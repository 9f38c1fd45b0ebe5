package sandbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/guest/js"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
)

// A context that has ended is honoured before anything is compiled.
func TestCompileEndedContext(t *testing.T) {
	e := newEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.CompileText(ctx, testguest.WATNop)
	require.ErrorIs(t, err, context.Canceled)
	_, err = e.Compile(context.Background(), nil) // a usable engine after it
	require.Error(t, err)
	m, err := e.CompileText(context.Background(), testguest.WATNop)
	require.NoError(t, err)
	require.NotNil(t, m)
}

// endsOnSight is a context whose Err is nil when Compile first checks it but
// whose Done channel is already closed: it "ends" during the compilation,
// deterministically, without racing a timer against the compiler.
type endsOnSight struct{ context.Context }

func (endsOnSight) Done() <-chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}
func (endsOnSight) Err() error { return nil }

// A caller whose context ends during a compilation gets its error back at
// once; the compilation finishes in the background and fills the cache,
// and Close waits for it rather than freeing the engine under it.
func TestCompileContextEndsDuringCompilation(t *testing.T) {
	e, err := sandbox.NewEngine()
	require.NoError(t, err)
	mod := js.Engine() // 0.8 MB: compiling it takes far longer than a select
	_, err = e.Compile(endsOnSight{context.Background()}, mod)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "goes on in the background")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a safety net only
	defer cancel()
	m, err := e.Compile(ctx, mod) // the background result or a second compile: one module
	require.NoError(t, err)
	again, err := e.Compile(ctx, mod)
	require.NoError(t, err)
	assert.Same(t, m, again)
	require.NoError(t, e.Close())

	// Close right after an abandoned compilation waits for it.
	e2, err := sandbox.NewEngine()
	require.NoError(t, err)
	_, err = e2.Compile(endsOnSight{context.Background()}, mod)
	require.Error(t, err)
	require.NoError(t, e2.Close())
	_, err = e2.Compile(context.Background(), mod)
	require.ErrorIs(t, err, sandbox.ErrClosed)
}
