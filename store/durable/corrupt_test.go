package durable_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/store/durable"
)

// fillStore writes n messages "0".."n-1" to queue q in a new store in
// dir and closes it.
func fillStore(t *testing.T, dir string, n int) {
	t.Helper()
	s := openStore(t, dir)
	q := queue(t, s, "q")
	for i := range n {
		require.NoError(t, q.Push(env(fmt.Sprint(i), 0)))
	}
	require.NoError(t, s.DeadLetters().Add(context.Background(), deadLetter("dl")))
	require.NoError(t, s.Close())
}

// withEngine opens the store's directory with Pebble itself, the way a
// disk fault or a buggy writer would leave it.
func withEngine(t *testing.T, dir string, fn func(db *pebble.DB)) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietPebble{}})
	require.NoError(t, err)
	fn(db)
	require.NoError(t, db.Close())
}

type quietPebble struct{}

func (quietPebble) Infof(string, ...any)         {}
func (quietPebble) Errorf(string, ...any)        {}
func (quietPebble) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

// keysWithPrefix lists the keys starting with p.
func keysWithPrefix(t *testing.T, db *pebble.DB, p string) [][]byte {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(p), UpperBound: []byte{p[0] + 1}})
	require.NoError(t, err)
	defer it.Close()
	var out [][]byte
	for it.First(); it.Valid(); it.Next() {
		out = append(out, slices.Clone(it.Key()))
	}
	return out
}

func TestCorruptRecordIsReportedThenQuarantined(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fillStore(t, dir, 3)
	withEngine(t, dir, func(db *pebble.DB) {
		keys := keysWithPrefix(t, db, "q")
		require.Len(t, keys, 3)
		v, closer, err := db.Get(keys[1])
		require.NoError(t, err)
		bad := slices.Clone(v)
		closer.Close()
		bad[len(bad)/2] ^= 0x40 // one flipped bit
		require.NoError(t, db.Set(keys[1], bad, pebble.Sync))
	})

	_, err := durable.Open(dir, durable.WithLogger(quietLog))
	require.ErrorIs(t, err, durable.ErrCorrupt)
	var ce *durable.CorruptError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, dir, ce.File)
	assert.Equal(t, "queue 1 seq 2", ce.Key)
	assert.Contains(t, err.Error(), "checksum mismatch")
	assert.Contains(t, err.Error(), "WithRepair")

	s := openStore(t, dir, durable.WithRepair())
	assert.Equal(t, 1, s.Quarantined())
	assert.Equal(t, []string{"0", "2"}, drain(queue(t, s, "q")), "the rest, in order")
	s = reopen(t, s)
	assert.Equal(t, 1, s.Quarantined(), "quarantined records are kept and do not fail later opens")
	assert.Equal(t, 1, s.DeadLetters().Len())
}

func TestQueueWithoutItsNameIsKeptUnderOrphanName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fillStore(t, dir, 2)
	withEngine(t, dir, func(db *pebble.DB) {
		require.NoError(t, db.Delete([]byte("nq"), pebble.Sync))
	})
	_, err := durable.Open(dir, durable.WithLogger(quietLog))
	require.ErrorIs(t, err, durable.ErrCorrupt)
	assert.Contains(t, err.Error(), "no name record")

	s := openStore(t, dir, durable.WithRepair())
	assert.Equal(t, []string{"orphan-1"}, s.Queues())
	assert.Equal(t, []string{"0", "1"}, drain(queue(t, s, "orphan-1")), "nothing dropped")
}

func TestGarbledDeadLetterAndUnknownKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fillStore(t, dir, 1)
	withEngine(t, dir, func(db *pebble.DB) {
		keys := keysWithPrefix(t, db, "d")
		require.Len(t, keys, 1)
		require.NoError(t, db.Set(keys[0], []byte{1, 2, 3}, pebble.Sync))
		require.NoError(t, db.Set([]byte("zz-unknown"), []byte("x"), pebble.Sync))
	})
	_, err := durable.Open(dir, durable.WithLogger(quietLog))
	var ce *durable.CorruptError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, "dead letter 1", ce.Key)
	s := openStore(t, dir, durable.WithRepair())
	assert.Equal(t, 2, s.Quarantined())
	assert.Equal(t, 0, s.DeadLetters().Len())
	assert.Equal(t, 1, queue(t, s, "q").Len())
}

// walFiles returns the store's WAL files, newest last.
func walFiles(t *testing.T, dir string) []string {
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	require.NoError(t, err)
	slices.Sort(logs)
	var out []string
	for _, l := range logs {
		if fi, err := os.Stat(l); err == nil && fi.Size() > 0 {
			out = append(out, l)
		}
	}
	return out
}

func TestTornWALTailRecoversThePrefix(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fillStore(t, dir, 200)
	logs := walFiles(t, dir)
	require.NotEmpty(t, logs)
	wal := logs[len(logs)-1]
	fi, err := os.Stat(wal)
	require.NoError(t, err)
	// Cut the last WAL mid-record, as a crash during a write leaves it.
	require.NoError(t, os.Truncate(wal, fi.Size()*6/10))

	s := openStore(t, dir)
	got := drain(queue(t, s, "q"))
	require.NotEmpty(t, got)
	require.Less(t, len(got), 200)
	for i, c := range got {
		require.Equal(t, fmt.Sprint(i), c, "a prefix, in order, nothing in between lost")
	}
}

// Pebble tells garbage from a torn tail by the synced offsets its WAL
// chunks carry (FormatNewest), from the next 32 KiB block on: so this WAL
// is made several blocks long, and damaged well before its last block.
// (Garbage inside the last block is indistinguishable from a torn write:
// the log is cut there, as TestTornWALTailRecoversThePrefix shows.)
func TestGarbledWALIsReportedNamingTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStore(t, dir)
	q := queue(t, s, "q")
	for i := range 300 {
		require.NoError(t, q.Push(env(fmt.Sprint(i, strings.Repeat(".", 1000)), 0)))
	}
	require.NoError(t, s.Close())
	logs := walFiles(t, dir)
	require.NotEmpty(t, logs)
	wal := logs[len(logs)-1]
	b, err := os.ReadFile(wal)
	require.NoError(t, err)
	off := len(b) / 3
	copy(b[off:], bytes.Repeat([]byte{0xa5}, 64)) // garbage in the middle, valid records after it
	require.NoError(t, os.WriteFile(wal, b, 0o644))

	_, err = durable.Open(dir, durable.WithLogger(quietLog))
	require.ErrorIs(t, err, durable.ErrCorrupt, "%v", err)
	var ce *durable.CorruptError
	require.True(t, errors.As(err, &ce))
	assert.Contains(t, err.Error(), wal, "the error names the damaged log (among the logs replayed, when there are several)")
	assert.True(t, pebble.IsCorruptionError(errors.Unwrap(err)), "the engine's error is kept")
}

func TestGarbledTableIsReportedNamingTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fillStore(t, dir, 200)
	withEngine(t, dir, func(db *pebble.DB) { require.NoError(t, db.Flush()) }) // the WAL into a table
	tables, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	require.NoError(t, err)
	require.NotEmpty(t, tables)
	var table string
	for _, f := range tables { // the biggest: the one holding the messages
		if fi, _ := os.Stat(f); table == "" || fi.Size() > mustSize(t, table) {
			table = f
		}
	}
	b, err := os.ReadFile(table)
	require.NoError(t, err)
	for i := 100; i < 164 && i < len(b); i++ {
		b[i] ^= 0xff // inside the first data block
	}
	require.NoError(t, os.WriteFile(table, b, 0o644))

	_, err = durable.Open(dir, durable.WithLogger(quietLog))
	require.ErrorIs(t, err, durable.ErrCorrupt, "%v", err)
	var ce *durable.CorruptError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, table, ce.File)
	_, err = durable.Open(dir, durable.WithLogger(quietLog), durable.WithRepair())
	require.ErrorIs(t, err, durable.ErrCorrupt, "damage below the record level cannot be repaired record by record")
}

func mustSize(t *testing.T, f string) int64 {
	fi, err := os.Stat(f)
	require.NoError(t, err)
	return fi.Size()
}

func TestGarbledManifestIsReported(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fillStore(t, dir, 5)
	manifests, err := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
	require.NoError(t, err)
	require.NotEmpty(t, manifests)
	for _, m := range manifests {
		require.NoError(t, os.WriteFile(m, bytes.Repeat([]byte("garbage!"), 64), 0o644))
	}
	_, err = durable.Open(dir, durable.WithLogger(quietLog))
	require.Error(t, err)
	assert.True(t, errors.Is(err, durable.ErrCorrupt) || strings.Contains(err.Error(), "MANIFEST"), "%v", err)
	assert.Contains(t, err.Error(), dir)
}
