package caxton_test

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/caxtontest"
)

// memTrail is an AuditRetainer in memory: it keeps every record and, once
// it holds expireAt records, asks for those before record keep to go.
// removed lets a test play a crash between the checkpoint and the removal.
type memTrail struct {
	recs     []caxton.AuditRecord
	expireAt int
	keep     uint64
	noRemove bool
	fail     error
}

func (m *memTrail) Last() (caxton.AuditRecord, bool, error) {
	if len(m.recs) == 0 {
		return caxton.AuditRecord{}, false, nil
	}
	return m.recs[len(m.recs)-1], true, nil
}

func (m *memTrail) Append(r caxton.AuditRecord) error {
	if m.fail != nil {
		return m.fail
	}
	m.recs = append(m.recs, r)
	return nil
}

func (m *memTrail) Expired(time.Time) (caxton.AuditRecord, bool, error) {
	if m.expireAt == 0 || len(m.recs) < m.expireAt || m.recs[0].Seq >= m.keep {
		return caxton.AuditRecord{}, false, nil
	}
	for _, r := range m.recs {
		if r.Seq == m.keep {
			return r, true, nil
		}
	}
	return caxton.AuditRecord{}, false, nil
}

func (m *memTrail) Remove(seq uint64) error {
	if m.noRemove {
		m.expireAt = 0 // the crash: the checkpoint is written, the records stay
		return nil
	}
	for len(m.recs) > 0 && m.recs[0].Seq < seq {
		m.recs = m.recs[1:]
	}
	return nil
}

func purges(t *testing.T, rt *caxtontest.Runtime, n int) {
	t.Helper()
	for range n {
		_, err := rt.PurgeDeadLetters(caxtontest.Context(t))
		require.NoError(t, err)
	}
}

func TestAuditSinkContinuesTheChainAndRetentionIsCheckpointed(t *testing.T) {
	sink := &memTrail{expireAt: 10, keep: 6}
	rt := caxtontest.NewRuntime(t, caxton.WithAuditSink(sink))
	purges(t, rt, 10)
	// Record 10 made retention due: record 11 is the checkpoint, then
	// records 1-5 went.
	require.Equal(t, uint64(6), sink.recs[0].Seq)
	cp := sink.recs[len(sink.recs)-1]
	assert.Equal(t, caxton.AuditRetention, cp.Kind)
	assert.Equal(t, "6", cp.Target)
	assert.Contains(t, cp.Reason, sink.recs[0].Prev)
	require.NoError(t, caxton.VerifyAuditTrail(sink.recs))
	require.NoError(t, rt.Close(caxtontest.Context(t)))

	// A second runtime on the sink carries on from record 11.
	sink.expireAt = 0
	rt2 := caxtontest.NewRuntime(t, caxton.WithAuditSink(sink))
	purges(t, rt2, 2)
	assert.Equal(t, uint64(13), sink.recs[len(sink.recs)-1].Seq)
	require.NoError(t, caxton.VerifyAuditTrail(sink.recs))
	assert.Equal(t, uint64(12), rt2.Audit()[0].Seq, "the in-memory view continues the numbering too")
}

func TestVerifyAuditTrail(t *testing.T) {
	trail := func(sink *memTrail) []caxton.AuditRecord {
		rt := caxtontest.NewRuntime(t, caxton.WithAuditSink(sink))
		purges(t, rt, 12)
		return sink.recs
	}
	for _, tc := range []struct {
		name    string
		records func() []caxton.AuditRecord
		reason  string // "" verifies
	}{
		{"whole", func() []caxton.AuditRecord { return trail(&memTrail{}) }, ""},
		{"empty", func() []caxton.AuditRecord { return nil }, ""},
		{"start removed without a checkpoint", func() []caxton.AuditRecord { return trail(&memTrail{})[3:] }, "records 1 to 3 are missing and no retention checkpoint"},
		{"start removed by retention", func() []caxton.AuditRecord { return trail(&memTrail{expireAt: 8, keep: 5}) }, ""},
		{"retention checkpointed but not yet removed (a crash)", func() []caxton.AuditRecord {
			return trail(&memTrail{expireAt: 8, keep: 5, noRemove: true})
		}, ""},
		{"more removed than retention says", func() []caxton.AuditRecord { return trail(&memTrail{expireAt: 8, keep: 5})[1:] }, "records 5 to 5 are missing"},
		{"a record edited", func() []caxton.AuditRecord {
			r := trail(&memTrail{})
			r[4].Target = "one"
			return r
		}, "hash does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := caxton.VerifyAuditTrail(tc.records())
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, caxton.ErrAuditTampered)
			assert.Contains(t, err.Error(), tc.reason)
		})
	}
}

func TestAuditSinkFailuresAreLoggedNotLost(t *testing.T) {
	sink := &memTrail{fail: errors.New("disk full")}
	var logged bytes.Buffer
	rt := caxtontest.NewRuntime(t, caxton.WithAuditSink(sink), caxton.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	purges(t, rt, 1)
	require.Len(t, rt.Audit(), 1, "the record is still in the runtime's trail")
	assert.Contains(t, logged.String(), "level=ERROR")
	assert.Contains(t, logged.String(), "appending record 1: disk full")

	_, err := caxton.New(caxton.WithAuditSink(badLast{}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading its last record")
	_, err = caxton.New(caxton.WithAuditSink(nil))
	require.ErrorIs(t, err, caxton.ErrInvalidSpec)
}

type badLast struct{}

func (badLast) Last() (caxton.AuditRecord, bool, error) {
	return caxton.AuditRecord{}, false, errors.New("unreadable")
}
func (badLast) Append(caxton.AuditRecord) error { return nil }
