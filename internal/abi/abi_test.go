package abi_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fullMessage() *acl.Message {
	return &acl.Message{
		ID: acl.MustParseMessageID("01934bcd-ef01-7abc-8def-0123456789ab"), Performative: acl.Propose,
		Sender: "a", Receivers: []acl.AgentID{"b", "topic:c"}, ReplyTo: "d", Content: []byte{0, 1, 2, 0xff},
		Language: "json", Encoding: "utf-8", Ontology: "o", Protocol: "fipa-contract-net",
		ConversationID: "c-1", ReplyWith: "r-1", InReplyTo: "r-0",
		ReplyBy:   time.Date(2026, 11, 22, 10, 0, 0, 123, time.UTC),
		CreatedAt: time.Date(2026, 11, 22, 9, 0, 0, 456, time.UTC),
		Priority:  acl.PriorityLow, TraceContext: map[string]string{"traceparent": "00-x"},
		Params: map[string]string{"X-A": "1", "X-B": ""},
	}
}

func TestRoundTrip(t *testing.T) {
	msgs := []*acl.Message{fullMessage(), {Performative: acl.Inform}, {Performative: acl.Cancel, Receivers: []acl.AgentID{"x"}}}
	buf := abi.AppendBatch(nil, msgs)
	got, err := abi.DecodeBatch(buf, abi.Limits{})
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, msgs[0], got[0])
	assert.Equal(t, msgs[1], got[1])
	assert.Equal(t, msgs[2], got[2])
	// Decoded content is a copy: the buffer can be reused.
	clear(buf)
	assert.Equal(t, []byte{0, 1, 2, 0xff}, got[0].Content)
}

func TestFrameLayout(t *testing.T) {
	m := &acl.Message{Performative: acl.Inform, Priority: acl.PriorityHigh, Receivers: []acl.AgentID{"b"}, Content: []byte("hi")}
	b := abi.AppendMessage(nil, m)
	// u32 len, fixed header (36), 9 empty strings (36), receivers (4+4+1),
	// params (4), trace context (4), content (4+2)
	want := 4 + 36 + 36 + 9 + 4 + 4 + 6
	require.Len(t, b, want)
	assert.Equal(t, uint32(want-4), binary.LittleEndian.Uint32(b))
	assert.Equal(t, byte(acl.Inform), b[4])
	assert.Equal(t, byte(1), b[5])
	assert.Equal(t, "hi", string(b[len(b)-2:]))
}

func TestDecodeRejectsMalformedInput(t *testing.T) {
	good := abi.AppendBatch(nil, []*acl.Message{fullMessage()})
	tests := map[string][]byte{
		"empty":            {},
		"count too large":  binary.LittleEndian.AppendUint32(nil, 1000),
		"truncated":        good[:len(good)-1],
		"trailing":         append(append([]byte{}, good...), 0),
		"frame too short":  append(binary.LittleEndian.AppendUint32(nil, 1), 3, 0, 0, 0, 1, 2, 3),
		"string overflows": corrupt(good, 4+4+36, 0xffffff),
	}
	for name, buf := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := abi.DecodeBatch(buf, abi.Limits{})
			assert.ErrorIs(t, err, abi.ErrMalformed)
		})
	}
	_, err := abi.DecodeBatch(good, abi.Limits{MaxMessages: 0, MaxMessageSize: 10})
	assert.ErrorIs(t, err, abi.ErrMalformed)
	two := abi.AppendBatch(nil, []*acl.Message{{Performative: acl.Inform}, {Performative: acl.Inform}})
	_, err = abi.DecodeBatch(two, abi.Limits{MaxMessages: 1})
	assert.ErrorIs(t, err, abi.ErrMalformed)
}

func corrupt(b []byte, off int, v uint32) []byte {
	c := append([]byte{}, b...)
	binary.LittleEndian.PutUint32(c[off:], v)
	return c
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(abi.AppendBatch(nil, []*acl.Message{fullMessage()}))
	f.Add(abi.AppendBatch(nil, nil))
	f.Add([]byte{1, 0, 0, 0, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, err := abi.DecodeBatch(data, abi.Limits{MaxMessages: 100})
		if err != nil {
			require.ErrorIs(t, err, abi.ErrMalformed)
			return
		}
		again, err := abi.DecodeBatch(abi.AppendBatch(nil, msgs), abi.Limits{})
		require.NoError(t, err)
		require.Equal(t, msgs, again)
	})
}

func TestEncodedSize(t *testing.T) {
	for _, m := range []*acl.Message{fullMessage(), {Performative: acl.Inform}} {
		assert.Equal(t, len(abi.AppendMessage(nil, m)), abi.EncodedSize(m))
	}
}
