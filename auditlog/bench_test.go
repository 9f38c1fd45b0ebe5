package auditlog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/auditlog"
)

// BenchmarkAuditedEvent is one audited host operation (a purge of no dead
// letters) with the trail in memory only, in a Log synced in the
// background, and in a Log that fsyncs every record — the cost the sink
// adds to an audited event.
func BenchmarkAuditedEvent(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []auditlog.Option
		sink bool
	}{
		{"memory-only", nil, false},
		{"auditlog-sync-1s", []auditlog.Option{auditlog.WithSyncInterval(time.Second)}, true},
		{"auditlog-fsync-each", []auditlog.Option{auditlog.WithSyncInterval(0)}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var opts []caxton.Option
			if tc.sink {
				trail, err := auditlog.Open(b.TempDir(), tc.opts...)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { trail.Close() })
				opts = append(opts, caxton.WithAuditSink(trail))
			}
			rt, err := caxton.New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { rt.Close(context.Background()) })
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := rt.PurgeDeadLetters(context.Background()); err != nil {
					b.Fatal(fmt.Sprint(err))
				}
			}
		})
	}
}
