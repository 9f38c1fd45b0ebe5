// Package sandboxbench holds the benchmark bodies several packages run on a
// sandbox instance, so each language's figure comes from the same loop.
package sandboxbench

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
)

// BatchCall hands an echo instance b.N batches of 256 requests and reports
// the amortised cost per message ("ns/msg").
func BatchCall(b *testing.B, in *sandbox.Instance) {
	batch := make([]*acl.Message, 256)
	for i := range batch {
		batch[i] = &acl.Message{Performative: acl.Request, Sender: "host", Receivers: []acl.AgentID{"echo"}, Content: []byte("x")}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := in.Handle(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/msg")
}
