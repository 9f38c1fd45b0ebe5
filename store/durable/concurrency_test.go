package durable_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/durable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentQueuesShareTheStore drives many queues at once — each
// serialised by its own lock, as the runtime's mailboxes do — with dead
// letters, history reads and queue listings alongside, then reopens and
// checks the books balance. Run with -race.
func TestConcurrentQueuesShareTheStore(t *testing.T) {
	t.Parallel()
	const queues, pushersPerQueue, perPusher = 8, 3, 60
	s := openStore(t, t.TempDir(), durable.WithHistory(durable.Retention{MaxEntries: 200}))
	type box struct {
		mu sync.Mutex
		q  *durable.Queue
	}
	boxes := make([]*box, queues)
	var opened sync.WaitGroup
	for i := range boxes {
		opened.Go(func() {
			q, err := s.Queue(fmt.Sprintf("agent-%d#0", i))
			assert.NoError(t, err)
			boxes[i] = &box{q: q}
		})
	}
	opened.Wait()

	var pushed, acked, dead atomic.Int64
	var work, side sync.WaitGroup
	stop := make(chan struct{})
	for i, b := range boxes {
		for p := range pushersPerQueue {
			work.Go(func() {
				for n := range perPusher {
					m := &acl.Message{Performative: acl.Inform, Sender: "host", ConversationID: fmt.Sprint("c", n%5),
						Content: []byte(strconv.Itoa(n)), Priority: acl.Priority(n%3 - 1)}
					b.mu.Lock()
					err := b.q.Push(&store.Envelope{Msg: m, Receiver: acl.AgentID(fmt.Sprint("agent-", i))})
					b.mu.Unlock()
					if !assert.NoError(t, err, "pusher %d/%d", i, p) {
						return
					}
					pushed.Add(1)
				}
			})
		}
		work.Go(func() { // the consumer: ack most, dead-letter some, retry and release a few
			for handled := 0; handled < pushersPerQueue*perPusher; {
				b.mu.Lock()
				e := b.q.Pop()
				b.mu.Unlock()
				if e == nil {
					runtime.Gosched() // the pushers are behind: let them run
					continue
				}
				n, _ := strconv.Atoi(string(e.Msg.Content))
				var err error
				switch {
				case n%11 == 0 && e.Attempts == 0:
					e.Attempts++
					b.mu.Lock()
					if err = b.q.Retry(e); err == nil {
						err = b.q.Release(e)
					}
					b.mu.Unlock()
					assert.NoError(t, err)
					continue
				case n%13 == 0:
					assert.NoError(t, s.DeadLetters().Add(context.Background(), store.DeadLetter{ID: fmt.Sprint(i, "-", e.Seq), Message: e.Msg, Receiver: e.Receiver, Reason: "test"}))
					dead.Add(1)
				}
				b.mu.Lock()
				err = b.q.Ack(e)
				b.mu.Unlock()
				assert.NoError(t, err)
				acked.Add(1)
				handled++
			}
		})
	}
	side.Go(func() { // readers alongside the writers
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, err := s.History(context.Background(), durable.HistoryQuery{Conversation: "c1", Limit: 20})
			assert.NoError(t, err)
			assert.Len(t, s.Queues(), queues)
			_, err = s.DeadLetters().List(context.Background())
			assert.NoError(t, err)
		}
	})
	work.Wait()
	close(stop)
	side.Wait()
	require.Equal(t, int64(queues*pushersPerQueue*perPusher), pushed.Load())
	require.Equal(t, pushed.Load(), acked.Load())
	st := s.Stats()
	assert.Greater(t, st.Writes, st.Fsyncs, "group commit: more records than fsyncs")

	s = reopen(t, s, durable.WithHistory(durable.Retention{MaxEntries: 200}))
	for i := range queues {
		assert.Equal(t, 0, queue(t, s, fmt.Sprintf("agent-%d#0", i)).Len(), "everything acked is gone")
	}
	assert.Equal(t, int(dead.Load()), s.DeadLetters().Len())
	require.NoError(t, s.PruneHistory(context.Background()))
	h, err := s.History(context.Background(), durable.HistoryQuery{Limit: durable.MaxHistoryLimit})
	require.NoError(t, err)
	assert.Len(t, h, 200, "history pruned to its bound")
}
