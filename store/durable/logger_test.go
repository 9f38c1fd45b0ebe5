package durable_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/durable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The store is silent unless given a logger, and a nil logger is that
// default (as in every Caxton package), not a panic at the first line.
func TestLoggerDefaultsToSilent(t *testing.T) {
	for name, opts := range map[string][]durable.Option{"no option": nil, "nil logger": {durable.WithLogger(nil)}} {
		s, err := durable.Open(t.TempDir(), opts...)
		require.NoError(t, err, name)
		q, err := s.Queue("a#0")
		require.NoError(t, err, name)
		m := acl.New(acl.Inform, "a")
		require.NoError(t, q.Push(&store.Envelope{Msg: m, Receiver: "a"}), name)
		require.NoError(t, s.Close(), name)
	}
	var buf bytes.Buffer
	s, err := durable.Open(t.TempDir(), durable.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.NotEmpty(t, buf.String(), "a logger given receives the engine's lines")
}
