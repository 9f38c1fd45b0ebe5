package durable

import (
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func codecMessage() *acl.Message {
	return &acl.Message{
		ID: acl.MustParseMessageID("01934bcd-ef01-7abc-8def-0123456789ab"), Performative: acl.Propose,
		Sender: "a", Receivers: []acl.AgentID{"b", "topic:c"}, ReplyTo: "d", Content: []byte{0, 1, 2, 0xff},
		Language: "json", Encoding: "utf-8", Ontology: "o", Protocol: "fipa-contract-net",
		ConversationID: "c-1", ReplyWith: "r-1", InReplyTo: "r-0",
		ReplyBy:   time.Date(2026, 11, 22, 10, 0, 0, 123, time.UTC),
		CreatedAt: time.Date(2026, 11, 22, 9, 0, 0, 456, time.Local),
		Priority:  acl.PriorityHigh, TraceContext: map[string]string{"traceparent": "00-x", "tracestate": "k=v"},
		Params: map[string]string{"X-A": "1", "X-B": ""},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	zone := time.FixedZone("XST", -5*3600+1800)
	for name, m := range map[string]*acl.Message{
		"full":    codecMessage(),
		"minimal": {Performative: acl.Inform},
		"empty, not nil": {Performative: acl.Cancel, Receivers: []acl.AgentID{}, Content: []byte{},
			Params: map[string]string{}, TraceContext: map[string]string{}},
		"far times": {Performative: acl.Inform, CreatedAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
			ReplyBy: time.Date(9999, 12, 31, 23, 59, 59, 999999999, zone)},
	} {
		t.Run(name, func(t *testing.T) {
			enq := time.Date(2026, 1, 2, 3, 4, 5, 6, zone)
			nb := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
			b := encodeEnvelope(nil, &store.Envelope{Msg: m, Receiver: "b", Attempts: 7, Enqueued: enq}, nb)
			e, notBefore, err := decodeEnvelope(b)
			require.NoError(t, err)
			assert.Equal(t, m.ID, e.Msg.ID)
			assert.True(t, m.ReplyBy.Equal(e.Msg.ReplyBy))
			_, wantOff := m.ReplyBy.Zone()
			_, gotOff := e.Msg.ReplyBy.Zone()
			assert.Equal(t, wantOff, gotOff, "the zone offset survives")
			if m.ReplyBy.Location() != zone {
				assert.Equal(t, m, e.Msg)
			}
			assert.Equal(t, acl.AgentID("b"), e.Receiver)
			assert.Equal(t, 7, e.Attempts)
			assert.True(t, enq.Equal(e.Enqueued))
			assert.Equal(t, nb, notBefore)
		})
	}
}

func TestCodecDeadLetterHistoryName(t *testing.T) {
	d := store.DeadLetter{ID: "x", Message: codecMessage(), Receiver: "b", Reason: "r", Attempts: 3, LastError: "e",
		At: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	got, err := decodeDeadLetter(encodeDeadLetter(nil, &d))
	require.NoError(t, err)
	assert.Equal(t, d, got)
	d.Message = nil
	got, err = decodeDeadLetter(encodeDeadLetter(nil, &d))
	require.NoError(t, err)
	assert.Nil(t, got.Message)

	h, err := decodeHistory(encodeHistory(nil, "b", d.At, codecMessage()))
	require.NoError(t, err)
	assert.Equal(t, HistoryEntry{Receiver: "b", At: d.At, Msg: codecMessage()}, h)

	qid, err := decodeName(encodeName(nil, 77))
	require.NoError(t, err)
	assert.Equal(t, uint32(77), qid)
	_, err = decodeName(encodeEnvelope(nil, &store.Envelope{Msg: codecMessage()}, time.Time{}))
	assert.ErrorContains(t, err, "kind", "a record of another kind")
}

// TestCodecRejectsDamage flips every bit of a record and cuts it at every
// length: each must be an error, never a panic and never a wrong message.
func TestCodecRejectsDamage(t *testing.T) {
	good := encodeEnvelope(nil, &store.Envelope{Msg: codecMessage(), Receiver: "b", Attempts: 1}, time.Time{})
	for i := range good {
		for bit := range 8 {
			b := append([]byte(nil), good...)
			b[i] ^= 1 << bit
			_, _, err := decodeEnvelope(b)
			require.Error(t, err, "byte %d bit %d", i, bit)
		}
	}
	for n := range len(good) {
		_, _, err := decodeEnvelope(good[:n])
		require.Error(t, err, "cut at %d", n)
	}
	_, _, err := decodeEnvelope(append(append([]byte(nil), good...), 0))
	require.Error(t, err, "a trailing byte")
	b := append([]byte(nil), good...)
	b[0] = 9
	_, _, err = decodeEnvelope(b)
	require.ErrorContains(t, err, "version 9")
}

// refresh makes b's checksum match, so fuzzing reaches the payload decoder.
func refresh(b []byte) []byte {
	if len(b) >= frameHeader {
		b[0] = codecVersion
		binary.LittleEndian.PutUint32(b[1:], crc32.Checksum(b[5:], castagnoli))
	}
	return b
}

// FuzzDecode feeds the decoders payloads with valid checksums: whatever
// the bytes, they return an error or a value, never panic, and never
// allocate much more than the input's size — a garbled count or length
// must not make a decoder reserve memory the input cannot fill (decodeBound
// says how much more is allowed).
func FuzzDecode(f *testing.F) {
	f.Add(encodeEnvelope(nil, &store.Envelope{Msg: codecMessage(), Receiver: "b"}, time.Now()))
	f.Add(encodeDeadLetter(nil, &store.DeadLetter{ID: "x", Message: codecMessage()}))
	f.Add(encodeHistory(nil, "b", time.Now(), codecMessage()))
	f.Add(encodeName(nil, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		b = refresh(b)
		if len(b) < frameHeader {
			return
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, k := range []byte{kindEnvelope, kindDeadLetter, kindHistory, kindName} {
			b[5] = k
			b = refresh(b)
			_, _, _ = decodeEnvelope(b)
			_, _ = decodeDeadLetter(b)
			_, _ = decodeHistory(b)
			_, _ = decodeName(b)
		}
		runtime.ReadMemStats(&after)
		if got, limit := after.TotalAlloc-before.TotalAlloc, decodeBound(len(b)); got > limit {
			t.Fatalf("decoding %d bytes (16 decodes) allocated %d bytes, more than %d", len(b), got, limit)
		}
	})
}

// decodeBound is how much decoding n bytes sixteen times (four decoders,
// four kinds) may allocate: every item a count admits takes at least one
// input byte, and holds at most a string or map entry (~64 bytes of
// headers and buckets) — plus slack for the runtime's own allocations.
func decodeBound(n int) uint64 { return uint64(16*(64*n+1024)) + 64<<10 }

// A count that claims more items than the bytes left could hold is refused
// before anything is allocated for them.
func TestDecodeDoesNotTrustCounts(t *testing.T) {
	m := &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"a"}}
	good := encodeEnvelope(nil, &store.Envelope{Msg: m, Receiver: "b"}, time.Now())
	for i := frameHeader; i < len(good); i++ {
		b := append([]byte(nil), good...)
		b = append(b[:i], append([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, b[i+1:]...)...) // a huge varint
		b = refresh(b)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, _ = decodeEnvelope(b)
		runtime.ReadMemStats(&after)
		assert.LessOrEqual(t, after.TotalAlloc-before.TotalAlloc, decodeBound(len(b))/16, "byte %d replaced by a huge count", i)
	}
}

func TestMessageSizeIsAnUpperBound(t *testing.T) {
	for _, m := range []*acl.Message{codecMessage(), {Performative: acl.Inform}} {
		b := appendMessage(nil, m)
		assert.LessOrEqual(t, len(b), messageSize(m))
		e := encodeEnvelope(nil, &store.Envelope{Msg: m, Receiver: "r"}, time.Now().In(time.FixedZone("LONG-ZONE-NAME", 3600)))
		assert.Equal(t, 128+1+messageSize(m), cap(e), "one allocation, no growth")
	}
}
