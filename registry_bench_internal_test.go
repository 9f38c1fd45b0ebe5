package caxton

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/caxton-go/caxton/acl"
)

// BenchmarkLookup is the receiver lookup every send makes (Runtime.lookup,
// a sync.Map) beside what it replaced in the same run: a map under a
// read-write mutex, whose read lock and unlock are two atomic
// read-modify-writes on a cache line all senders share. Parallel, so
// -cpu 1,2 shows one sender and two.
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		rt, err := New()
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		locked := make(map[acl.AgentID]endpoint, n)
		var mu sync.RWMutex
		for i := range n {
			ib, err := rt.NewInbox(acl.AgentID("a-" + strconv.Itoa(i)))
			if err != nil {
				b.Fatal(err)
			}
			locked[ib.id] = ib
		}
		key := acl.AgentID("a-" + strconv.Itoa(n/2))
		b.Run(strconv.Itoa(n)+"/caxton", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, ok := rt.lookup(key); !ok {
						b.Error("not found")
						return
					}
				}
			})
		})
		b.Run(strconv.Itoa(n)+"/rwmutex-map", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.RLock()
					_, ok := locked[key]
					mu.RUnlock()
					if !ok {
						b.Error("not found")
						return
					}
				}
			})
		})
		_ = rt.Close(ctx)
	}
}
