package abi_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/batch.bin from the golden batch")

// The golden files are how the SDKs in other languages check their codecs
// against this one without a host: testdata/batch.bin is a batch this
// package encodes, which the Rust and AssemblyScript SDKs' tests decode
// and compare with the same messages spelt in their language;
// testdata/outbox.bin is an outbox those SDKs encode (they must produce
// these bytes exactly: params in key order), which this test decodes.
// (Their guests are also exercised end to end by internal/conformance.)
func TestGoldenFiles(t *testing.T) {
	batchFile := filepath.Join("testdata", "batch.bin")
	if *update {
		require.NoError(t, os.WriteFile(batchFile, abi.AppendBatch(nil, goldenBatch()), 0o644))
	}
	b, err := os.ReadFile(batchFile)
	require.NoError(t, err)
	got, err := abi.DecodeBatch(b, abi.Limits{})
	require.NoError(t, err)
	assert.Equal(t, goldenBatch(), got)

	b, err = os.ReadFile(filepath.Join("testdata", "outbox.bin"))
	require.NoError(t, err)
	got, err = abi.DecodeBatch(b, abi.Limits{})
	require.NoError(t, err)
	assert.Equal(t, goldenOutbox(), got)
}

func goldenBatch() []*acl.Message {
	return []*acl.Message{
		{
			ID: acl.MustParseMessageID("01934bcd-ef01-7abc-8def-0123456789ab"), Performative: acl.Propose,
			Sender: "a", Receivers: []acl.AgentID{"b", "topic:c"}, ReplyTo: "d", Content: []byte{0, 1, 2, 0xff},
			Language: "json", Encoding: "utf-8", Ontology: "o", Protocol: "fipa-contract-net",
			ConversationID: "c-1", ReplyWith: "r-1", InReplyTo: "r-0",
			ReplyBy:   time.Date(2026, 11, 22, 10, 0, 0, 123, time.UTC),
			CreatedAt: time.Date(2026, 11, 22, 9, 0, 0, 456, time.UTC),
			Priority:  acl.PriorityLow, TraceContext: map[string]string{"traceparent": "00-x", "tracestate": "k=v"},
			Params: map[string]string{"X-A": "1", "X-B": ""},
		},
		{Performative: acl.Inform},
		{Performative: acl.Cancel, Receivers: []acl.AgentID{"x", "y", "z"}, Priority: acl.PriorityHigh,
			Ontology: "ünï", Content: []byte("héllo ✓")},
	}
}

func goldenOutbox() []*acl.Message {
	return []*acl.Message{
		{Performative: acl.Request, Priority: acl.PriorityHigh, Receivers: []acl.AgentID{"worker", "topic:jobs"},
			ReplyTo: "desk", Language: "text/plain", ConversationID: "order-7", ReplyWith: "q-1",
			ReplyBy: time.Date(2026, 11, 22, 10, 0, 0, 123, time.UTC),
			Params:  map[string]string{"X-Z": "last", "X-A": "first"}, Content: []byte("done:ticket 7")},
		{Performative: acl.Inform, Receivers: []acl.AgentID{"a"}},
	}
}
