package auditlog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/auditlog"
)

// A runtime keeps its audit trail in a directory; a second runtime on the
// same directory continues the chain, and the whole trail verifies.
func Example() {
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)
	for run := 1; run <= 2; run++ {
		trail, err := auditlog.Open(filepath.Join(dir, "audit"), auditlog.WithRetention(auditlog.Retention{MaxAge: 90 * 24 * time.Hour}))
		if err != nil {
			panic(err)
		}
		rt, err := caxton.New(caxton.WithAuditSink(trail))
		if err != nil {
			panic(err)
		}
		rt.PurgeDeadLetters(context.Background()) // audited: a host operation
		rt.Close(context.Background())
		trail.Close()
	}

	trail, _ := auditlog.Open(filepath.Join(dir, "audit"))
	defer trail.Close()
	for r := range trail.All() {
		fmt.Println(r.Seq, r.Subject, r.Action, r.Target)
	}
	fmt.Println("verify:", trail.Verify())
	// Output:
	// 1 host purge all
	// 2 host purge all
	// verify: <nil>
}
