package auditlog_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/auditlog"
	"github.com/caxton-go/caxton/clock"
)

// session is one runtime's life on the trail in dir: it records n events
// (host purges of dead letters, each one audit record) and closes the
// runtime and the log.
func session(t *testing.T, dir string, fc *clock.Fake, n int, opts ...auditlog.Option) {
	t.Helper()
	trail, err := auditlog.Open(dir, opts...)
	require.NoError(t, err)
	rt, err := caxton.New(caxton.WithClock(fc), caxton.WithAuditSink(trail))
	require.NoError(t, err)
	for i := range n {
		_, err := rt.PurgeDeadLetters(t.Context())
		require.NoError(t, err, "event %d", i)
		fc.Advance(time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, rt.Close(ctx))
	require.NoError(t, trail.Close())
}

// stored opens dir and returns its records and the verdict of Verify.
func stored(t *testing.T, dir string) ([]caxton.AuditRecord, error) {
	t.Helper()
	trail, err := auditlog.Open(dir)
	require.NoError(t, err)
	defer trail.Close()
	var out []caxton.AuditRecord
	for r, err := range trail.All() {
		require.NoError(t, err)
		out = append(out, r)
	}
	return out, trail.Verify()
}

func TestTrailSurvivesRestartsAndVerifiesAcrossThem(t *testing.T) {
	dir := t.TempDir()
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for range 3 {
		session(t, dir, fc, 5)
	}
	recs, err := stored(t, dir)
	require.NoError(t, err)
	require.Len(t, recs, 15)
	for i, r := range recs {
		assert.Equal(t, uint64(i+1), r.Seq, "one chain across three runtimes")
		assert.Equal(t, caxton.AuditDeadLetters, r.Kind)
		assert.Equal(t, "purge", r.Action)
	}
	assert.Equal(t, recs[4].Hash, recs[5].Prev, "the second runtime's first record follows the first's last")
	require.NoError(t, caxton.VerifyAuditTrail(recs))

	// The files are JSON lines an operator can read.
	b, err := os.ReadFile(filepath.Join(dir, "00000000000000000001.jsonl"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"kind":"dead letters","subject":"host","action":"purge"`)
}

func TestRetentionKeepsTheTrailVerifiable(t *testing.T) {
	for _, tc := range []struct {
		name string
		ret  auditlog.Retention
	}{
		{"by count", auditlog.Retention{MaxRecords: 20}},
		{"by age", auditlog.Retention{MaxAge: 30 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			opts := []auditlog.Option{auditlog.WithRetention(tc.ret), auditlog.WithSegmentBytes(1500)} // a few records a segment
			session(t, dir, fc, 60, opts...)
			session(t, dir, fc, 60, opts...)

			recs, err := stored(t, dir)
			require.NoError(t, err, "a trail cut by retention verifies")
			require.NoError(t, caxton.VerifyAuditTrail(recs))
			assert.Greater(t, recs[0].Seq, uint64(1), "old records were removed")
			assert.Less(t, len(recs), 60, "retention bounds the trail")
			last := recs[len(recs)-1]
			assert.GreaterOrEqual(t, last.Seq, uint64(120), "nothing new was lost")
			var checkpoints int
			for _, r := range recs {
				if r.Kind == caxton.AuditRetention {
					checkpoints++
				}
			}
			assert.Positive(t, checkpoints, "each removal is announced in the chain")
			if tc.ret.MaxRecords > 0 {
				assert.GreaterOrEqual(t, len(recs), tc.ret.MaxRecords, "at least MaxRecords are kept")
			} else {
				assert.WithinDuration(t, last.At, recs[0].At, tc.ret.MaxAge+10*time.Second, "old segments are gone")
			}

			// Someone deletes the oldest segment that retention kept: the
			// checkpoint names the record the trail must start with.
			segs, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
			require.NoError(t, err)
			require.Greater(t, len(segs), 1)
			require.NoError(t, os.Remove(segs[0]))
			_, err = stored(t, dir)
			require.ErrorIs(t, err, caxton.ErrAuditTampered)
			var ce *caxton.AuditChainError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, ce.Reason, "are missing")
		})
	}
}

func TestTamperingIsFound(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(lines []string) []string
		reason string
	}{
		{"a record edited", func(l []string) []string {
			l[3] = strings.Replace(l[3], `"allowed":true`, `"allowed":false`, 1)
			return l
		}, "hash does not match"},
		{"a record removed", func(l []string) []string { return append(l[:3:3], l[4:]...) }, "does not follow"},
		{"records removed at the start", func(l []string) []string { return l[2:] }, "no retention checkpoint accounts for them"},
		{"records swapped", func(l []string) []string { l[2], l[3] = l[3], l[2]; return l }, "does not follow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			session(t, dir, clock.NewFake(time.Unix(1e9, 0)), 8)
			p := filepath.Join(dir, "00000000000000000001.jsonl")
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			lines := strings.SplitAfter(string(b), "\n")
			lines = lines[:len(lines)-1] // the empty string after the last newline
			require.NoError(t, os.WriteFile(p, []byte(strings.Join(tc.tamper(lines), "")), 0o640))
			_, err = stored(t, dir)
			require.ErrorIs(t, err, caxton.ErrAuditTampered)
			assert.Contains(t, err.Error(), tc.reason)
		})
	}
}

func TestARecordCutShortByACrashIsDropped(t *testing.T) {
	dir := t.TempDir()
	fc := clock.NewFake(time.Unix(1e9, 0))
	session(t, dir, fc, 4)
	p := filepath.Join(dir, "00000000000000000001.jsonl")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"seq":5,"at":"2001-09-09T01:46`) // the crash
	require.NoError(t, err)
	require.NoError(t, f.Close())

	session(t, dir, fc, 2) // opens past the torn record and continues the chain
	recs, err := stored(t, dir)
	require.NoError(t, err)
	require.Len(t, recs, 6)
	assert.Equal(t, uint64(5), recs[4].Seq)
}

func TestDamageElsewhereIsRefused(t *testing.T) {
	dir := t.TempDir()
	session(t, dir, clock.NewFake(time.Unix(1e9, 0)), 4, auditlog.WithSegmentBytes(700))
	segs, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	require.Greater(t, len(segs), 1)
	b, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	b[10] = '{' // garbage inside the first line
	require.NoError(t, os.WriteFile(segs[0], b, 0o640))
	_, err = auditlog.Open(dir)
	require.ErrorIs(t, err, auditlog.ErrCorrupt)
	var ce *auditlog.CorruptError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, filepath.Base(segs[0]), ce.File)
	assert.Equal(t, 1, ce.Line)
}

func TestOneWriterAndInOrder(t *testing.T) {
	dir := t.TempDir()
	trail, err := auditlog.Open(dir, auditlog.WithSyncInterval(0))
	require.NoError(t, err)
	defer trail.Close()
	_, err = auditlog.Open(dir)
	require.ErrorIs(t, err, auditlog.ErrLocked)

	rt, err := caxton.New(caxton.WithAuditSink(trail))
	require.NoError(t, err)
	_, err = rt.PurgeDeadLetters(t.Context())
	require.NoError(t, err)
	require.NoError(t, rt.Close(context.Background()))

	last, ok, err := trail.Last()
	require.NoError(t, err)
	require.True(t, ok)
	err = trail.Append(caxton.AuditRecord{Seq: last.Seq + 2, Kind: caxton.AuditLifecycle})
	var oe *auditlog.OrderError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, last.Seq, oe.After)

	require.NoError(t, trail.Close())
	require.ErrorIs(t, trail.Append(caxton.AuditRecord{Seq: last.Seq + 1, Kind: caxton.AuditLifecycle}), auditlog.ErrClosed)
}

func TestOptionsRefuseBadValues(t *testing.T) {
	for _, o := range []auditlog.Option{
		auditlog.WithRetention(auditlog.Retention{MaxAge: -1}),
		auditlog.WithRetention(auditlog.Retention{MaxRecords: -1}),
		auditlog.WithSegmentBytes(0),
		auditlog.WithSyncInterval(-time.Second),
	} {
		_, err := auditlog.Open(t.TempDir(), o)
		assert.Error(t, err)
	}
	_, err := auditlog.Open("")
	assert.Error(t, err)
	assert.False(t, errors.Is(err, auditlog.ErrLocked))
}
