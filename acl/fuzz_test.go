package acl_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
)

// inWireYearRange reports whether t can be written as an RFC 3339 time in
// UTC (a four-digit year). The decoder rejects other times, so a decoded
// message must always satisfy it (see TestJSONTimeYearRange).
func inWireYearRange(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

func FuzzUnmarshal(f *testing.F) {
	full, err := acl.Marshal(fullMessage())
	require.NoError(f, err)
	binary := acl.New(acl.Inform, "b")
	binary.Content = []byte{0, 0xff, 0xfe}
	bin, err := acl.Marshal(binary)
	require.NoError(f, err)

	for _, seed := range []string{
		string(full),
		string(bin),
		`{"performative":"inform"}`,
		`{"performative":"INFORM_IF","receiver":"a"}`,
		`{"performative":"cfp","receiver":["a","b"],"priority":"low","X-a":"1","x-b":"2"}`,
		`{"performative":"agree","reply_by":"2026-11-22T11:00:00.123456789+01:00","created_at":"2026-01-01T00:00:00Z"}`,
		`{"performative":"inform","content":"héllo\n\u0000","trace_context":{"traceparent":"00-1"}}`,
		`{"performative":"inform","content_base64":"w6k="}`,
		`{"performative":"inform","id":null,"receiver":[],"trace_context":{}}`,
		`{"performative":"inform","reply_by":"9999-12-31T23:59:59-01:00"}`, // year 10000 in UTC: rejected
		// invalid documents
		``,
		`[]`,
		`null`,
		`{}`,
		`{"performative":"shout"}`,
		`{"performative":"inform","performative":"inform"}`,
		`{"performative":"inform","content":"a","content_base64":"YQ=="}`,
		`{"performative":"inform","content_base64":"!!"}`,
		`{"performative":"inform","reply_by":"yesterday"}`,
		`{"performative":"inform","X-a":1}`,
		`{"performative":"inform"} {}`,
		`{"performative":"inform"`,
		`{"performative":"inform","receiver":[1]}`,
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		m1, err := acl.Unmarshal(data)
		if err != nil {
			// Every decoding error is a FieldError wrapping ErrInvalid.
			require.Nil(t, m1)
			require.ErrorIs(t, err, acl.ErrInvalid)
			var fe *acl.FieldError
			require.ErrorAs(t, err, &fe)
			require.NotEmpty(t, fe.Reason)
			return
		}
		require.NotNil(t, m1)
		require.True(t, m1.Performative.Valid())
		_ = m1.Validate() // must not panic, whatever the verdict
		_ = m1.String()

		if !inWireYearRange(m1.ReplyBy) || !inWireYearRange(m1.CreatedAt) {
			t.Fatalf("decoded a time outside years 0001-9999: %v / %v", m1.ReplyBy, m1.CreatedAt)
		}

		out, err := acl.Marshal(m1)
		require.NoError(t, err, "re-encoding %+v", m1)
		require.True(t, json.Valid(out), "invalid JSON %s", out)

		m2, err := acl.Unmarshal(out)
		require.NoError(t, err, "decoding our own output %s", out)
		if !assertSameMessage(t, m1, m2) {
			t.Fatalf("round trip changed the message\ninput:  %q\noutput: %s", data, out)
		}

		again, err := acl.Marshal(m2)
		require.NoError(t, err)
		require.Equal(t, string(out), string(again), "encoding is not deterministic")

		assertSameMessage(t, m1, m1.Clone())
	})
}
