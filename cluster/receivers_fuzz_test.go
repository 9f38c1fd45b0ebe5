package cluster

import (
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

type fakeMsg struct {
	jetstream.Msg
	h nats.Header
}

func (m fakeMsg) Headers() nats.Header { return m.h }
func (m fakeMsg) Subject() string      { return "s" }
func (m fakeMsg) Data() []byte         { return nil }

// parseReceivers and byReceiver never panic and never select
// outside the frame, whatever the headers.
func FuzzReceivers(f *testing.F) {
	for _, s := range []string{"a", "a*", "*3", "a*1", "a*0", "a*-1", "a*99999999999999999999", "a,,b", "a,", ",a", " a", "a*+2", "a*02", "a,a", "a*2*3", "a*256"} {
		f.Add(s, "0,1", uint8(3))
	}
	f.Add("a,b*2", "", uint8(3))
	f.Add("a,b*2", "2,1", uint8(3))
	f.Add("a,b*2", "1,1", uint8(3))
	f.Add("a,b*2", "1,", uint8(3))
	f.Add("a,b*2", "+1", uint8(3))
	f.Fuzz(func(t *testing.T, to, only string, n uint8) {
		k := int(n)%maxBatch + 1
		rcpt, err := parseReceivers(to, k)
		if err != nil {
			return
		}
		if len(rcpt) != k {
			t.Fatalf("%q: %d receivers for %d", to, len(rcpt), k)
		}
		o := opened{msgs: make([]*acl.Message, k), to: rcpt}
		h := nats.Header{}
		if only != "" {
			h.Set(hdrOnly, only)
		}
		parts, rej := byReceiver(fakeMsg{h: h}, o)
		if rej != nil {
			return
		}
		seen := map[int]bool{}
		for _, p := range parts {
			for _, i := range p.idx {
				if i < 0 || i >= k || seen[i] || rcpt[i] != p.to {
					t.Fatalf("bad index %d", i)
				}
				seen[i] = true
			}
		}
	})
}
