package mcpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repeat is n bytes of c, produced as they are read (never held whole).
func repeat(c byte, n int) io.Reader {
	return io.LimitReader(byteReader(c), int64(n))
}

type byteReader byte

func (b byteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestFrameFilter(t *testing.T) {
	type refusal struct {
		ID      any
		Message string
	}
	str := strings.NewReader
	for _, tc := range []struct {
		name     string
		limit    int
		in       []io.Reader
		want     string    // what passes
		refusals []refusal // id and a part of the message
	}{
		{"lines within the limit pass", 100, []io.Reader{str(`{"a":1}` + "\n" + `{"b":2}` + "\n")},
			`{"a":1}` + "\n" + `{"b":2}` + "\n", nil},
		{"a line of exactly the limit passes", 10, []io.Reader{str(`"12345678"` + "\n")}, `"12345678"` + "\n", nil},
		{"the last line needs no newline", 100, []io.Reader{str("{}\n{\"x\":1}")}, "{}\n{\"x\":1}", nil},
		{"an oversize line in one chunk", 100, []io.Reader{str(`{"jsonrpc":"2.0","id":5,"method":"m","params":"`), repeat('x', 200), str("\"}\n{}\n")},
			"{}\n", []refusal{{float64(5), "over this server's limit of 100 bytes"}}},
		{"an oversize line over many chunks", 1000, []io.Reader{str(`{"id":"s-1","method":"m","params":"`), repeat('x', 5*frameChunk), str("\"}\n[1]\n")},
			"[1]\n", []refusal{{"s-1", "not processed"}}},
		{"the id after the first 64 KiB", 1000, []io.Reader{str(`{"method":"m","params":"`), repeat('x', 3*framePrefix), str(`"},"id":7}` + "\n{}\n")},
			"{}\n", []refusal{{nil, "its request id is not within its first 65536 bytes, so this error's id is null"}}},
		{"not even JSON", 10, []io.Reader{repeat('#', 100), str("\n{}\n")}, "{}\n", []refusal{{nil, "id is null"}}},
		{"a response is not answered", 100, []io.Reader{str(`{"jsonrpc":"2.0","id":9,"result":"`), repeat('x', 300), str("\"}\n{}\n")}, "{}\n", nil},
		{"cut off by the end of input", 100, []io.Reader{str(`{"id":3,"params":"`), repeat('x', 300)}, "", []refusal{{float64(3), "message too large"}}},
		{"two in a row", 50, []io.Reader{str(`{"id":1,"p":"`), repeat('x', 60), str("\"}\n" + `{"id":2,"p":"`), repeat('x', 60), str("\"}\n{}\n")},
			"{}\n", []refusal{{float64(1), ""}, {float64(2), ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			f := &frameFilter{src: io.NopCloser(io.MultiReader(tc.in...)), out: &lockedWriter{w: &out}, limit: tc.limit}
			got, err := io.ReadAll(f)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
			dec := json.NewDecoder(&out)
			for i, want := range tc.refusals {
				var r struct {
					JSONRPC string `json:"jsonrpc"`
					ID      any    `json:"id"`
					Error   struct {
						Code    int    `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				require.NoError(t, dec.Decode(&r), "refusal %d", i)
				assert.Equal(t, "2.0", r.JSONRPC)
				assert.Equal(t, want.ID, r.ID, "refusal %d", i)
				assert.Equal(t, -32600, r.Error.Code)
				assert.Contains(t, r.Error.Message, want.Message)
			}
			assert.False(t, dec.More(), "no more refusals")
		})
	}
}

// TestFrameFilterMemory skips a 64 MiB message holding no more than the
// limit and a few chunks.
func TestFrameFilterMemory(t *testing.T) {
	const limit = 64 << 10
	var out bytes.Buffer
	f := &frameFilter{src: io.NopCloser(io.MultiReader(strings.NewReader(`{"id":1,"params":"`), repeat('x', 64<<20),
		strings.NewReader("\"}\n{}\n"))), out: &lockedWriter{w: &out}, limit: limit}
	got, err := io.ReadAll(f)
	require.NoError(t, err)
	assert.Equal(t, "{}\n", string(got))
	assert.Contains(t, out.String(), `"id":1`)
	assert.LessOrEqual(t, cap(f.buf), 2*(limit+2*frameChunk), "the line buffer")
	assert.LessOrEqual(t, cap(f.scratch), 2*frameChunk, "the skipping buffer")
}
