package cluster

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Messages from one sender to one agent on another node arrive in the
// order sent, though many senders share the outbox and its frames, with
// synchronous and asynchronous publishing.
func TestOrderPerSenderAcrossNodes(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"sync", nil}, {"async", []Option{WithAsyncPublish(256)}}} {
		t.Run(mode.name, func(t *testing.T) {
			tc := newTestCluster(t, 1, 2, mode.opts...)
			ctx := testCtx(t)
			const senders, each = 8, 300
			var mu sync.Mutex
			last := map[acl.AgentID]int{}
			var disorder []string
			done := make(chan struct{})
			got := 0
			require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "sink", MailboxCapacity: 4096,
				Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
					m := mc.Message()
					k, err := strconv.Atoi(string(m.Content))
					if err != nil {
						return err
					}
					mu.Lock()
					defer mu.Unlock()
					if prev, ok := last[m.Sender]; ok && k != prev+1 || !ok && k != 0 {
						disorder = append(disorder, fmt.Sprintf("%s: %d after %d", m.Sender, k, prev))
					}
					last[m.Sender] = k
					if got++; got == senders*each {
						close(done)
					}
					return nil
				})}))
			var wg sync.WaitGroup
			for s := range senders {
				ib, err := tc.rts[0].NewInbox(acl.AgentID(fmt.Sprint("sender-", s)))
				require.NoError(t, err)
				wg.Go(func() {
					for k := range each {
						if err := ib.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"sink"}, Content: []byte(strconv.Itoa(k))}); err != nil {
							t.Errorf("send: %v", err)
							return
						}
					}
				})
			}
			wg.Wait()
			select {
			case <-done:
			case <-ctx.Done():
				t.Fatalf("only %d of %d arrived", got, senders*each)
			}
			mu.Lock()
			defer mu.Unlock()
			assert.Empty(t, disorder)
			eventually(t, func() bool {
				k := 0
				tc.nodes[0].outboxes.m.Range(func(any, any) bool { k++; return true })
				return k == 0
			}, "the idle outbox dropped")
		})
	}
}
