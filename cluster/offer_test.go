package cluster

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeFrameMsg stands for a JetStream message: it counts what the node
// does with it.
type fakeFrameMsg struct {
	jetstream.Msg
	acks, naks atomic.Int32
}

func (m *fakeFrameMsg) Ack() error                       { m.acks.Add(1); return nil }
func (m *fakeFrameMsg) Nak() error                       { m.naks.Add(1); return nil }
func (m *fakeFrameMsg) NakWithDelay(time.Duration) error { m.naks.Add(1); return nil }
func (m *fakeFrameMsg) InProgress() error                { return nil }
func (m *fakeFrameMsg) Term() error                      { m.naks.Add(1); return nil }
func (m *fakeFrameMsg) Subject() string                  { return "fake" }
func (m *fakeFrameMsg) Headers() nats.Header             { return nats.Header{} }
func (m *fakeFrameMsg) Data() []byte                     { return nil }

type reviewFrame struct {
	f   *frame
	msg *fakeFrameMsg
	ids []string // "sender/k" of each of its messages
}

// offerFrames plays `consumers` consumer goroutines (the node's own and
// adopted ones), each offering `frames` frames of 1-3 messages from its
// own sender to agent name, as take does. It returns the frames.
func offerFrames(t *testing.T, n *Node, h *hosted, name acl.AgentID, consumers, frames int, origin string) []*reviewFrame {
	return offerFramesUntil(t, n, h, name, consumers, origin, func(i int) bool { return i < frames })
}

// offerFramesUntil is offerFrames while more(i) holds for frame i.
func offerFramesUntil(t *testing.T, n *Node, h *hosted, name acl.AgentID, consumers int, origin string, more func(i int) bool) []*reviewFrame {
	t.Helper()
	var mu sync.Mutex
	var all []*reviewFrame
	var wg sync.WaitGroup
	for c := range consumers {
		wg.Go(func() {
			sender := acl.AgentID(fmt.Sprint("s-", c))
			k := 0
			for i := 0; more(i); i++ {
				count := 1 + i%3
				rf := &reviewFrame{msg: &fakeFrameMsg{}}
				p := part{to: name}
				o := opened{node: "n0"}
				for j := range count {
					m := acl.New(acl.Inform, name)
					m.Sender, m.Content, m.ID, m.CreatedAt = sender, []byte(strconv.Itoa(k)), acl.NewID(), time.Now()
					rf.ids = append(rf.ids, fmt.Sprintf("%s/%d", sender, k))
					k++
					p.msgs, p.idx = append(p.msgs, m), append(p.idx, j)
					o.msgs, o.to = append(o.msgs, m), append(o.to, name)
				}
				rf.f = n.hold(rf.msg, o, origin, count)
				p.f = rf.f
				if !h.offer(p) {
					rf.f.giveBack(p.idx...)
				}
				rf.f.done(1) // take's own
				mu.Lock()
				all = append(all, rf)
				mu.Unlock()
				if i%7 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	return all
}

// (Written by an independent review of the fast path, ba7f4c0.)
// Several consumer goroutines offering to one agent with a tiny mailbox
// (so that the fast path, the worker and its backoff all take turns):
// per-sender order holds, every message is handled once, every frame is
// acknowledged once, and nothing is left queued.
func TestConcurrentOffersKeepOrderAndSettleOnce(t *testing.T) {
	t.Parallel()
	for _, overflow := range []caxton.Overflow{caxton.OverflowBlock, caxton.OverflowReject} {
		t.Run(fmt.Sprint("overflow=", overflow), func(t *testing.T) {
			tc := newTestCluster(t, 1, 1)
			ctx := testCtx(t)
			const consumers, frames = 4, 150
			var mu sync.Mutex
			last := map[acl.AgentID]int{}
			seen := map[string]int{}
			var disorder []string
			var handled atomic.Int64
			require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "sink", MailboxCapacity: 2, BatchSize: 1, Overflow: overflow,
				Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
					m := mc.Message()
					k, _ := strconv.Atoi(string(m.Content))
					mu.Lock()
					if prev, ok := last[m.Sender]; ok && k != prev+1 || !ok && k != 0 {
						disorder = append(disorder, fmt.Sprintf("%s: %d after %d", m.Sender, k, prev))
					}
					last[m.Sender] = k
					seen[fmt.Sprintf("%s/%d", m.Sender, k)]++
					mu.Unlock()
					if k%5 == 0 {
						runtime.Gosched()
					}
					handled.Add(1)
					return nil
				})}))
			n := tc.nodes[0]
			n.hmu.Lock()
			h := n.hosted["sink"]
			n.hmu.Unlock()
			require.NotNil(t, h)

			all := offerFrames(t, n, h, "sink", consumers, frames, "zz")
			total := 0
			for _, rf := range all {
				total += len(rf.ids)
			}
			eventually(t, func() bool { return handled.Load() == int64(total) }, "every message handled")
			eventually(t, func() bool {
				for _, rf := range all {
					if rf.msg.acks.Load() == 0 {
						return false
					}
				}
				return true
			}, "every frame acknowledged")
			mu.Lock()
			defer mu.Unlock()
			assert.Empty(t, disorder)
			for _, rf := range all {
				assert.Equal(t, int32(1), rf.msg.acks.Load(), "acks of a frame")
				assert.Equal(t, int32(0), rf.msg.naks.Load(), "naks of a frame")
				assert.Equal(t, int64(0), rf.f.pending.Load(), "pending of a frame")
				for _, id := range rf.ids {
					assert.Equal(t, 1, seen[id], id)
				}
			}
			h.mu.Lock()
			assert.Empty(t, h.queue)
			assert.False(t, h.busy)
			h.mu.Unlock()
		})
	}
}

// Offers racing with Remove (Release → unhost → stop) while the agent is
// held: each message is handled once or given back, never both, never
// neither, and every frame settles exactly once.
func TestOffersRacingReleaseLoseNothing(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			tc := newTestCluster(t, 1, 1)
			ctx := testCtx(t)
			gate := make(chan struct{})
			var mu sync.Mutex
			seen := map[string]int{}
			started := make(chan struct{}, 1)
			require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "sink", MailboxCapacity: 3, BatchSize: 1,
				Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
					select {
					case started <- struct{}{}:
					default:
					}
					<-gate
					m := mc.Message()
					mu.Lock()
					seen[fmt.Sprintf("%s/%s", m.Sender, m.Content)]++
					mu.Unlock()
					return nil
				})}))
			n := tc.nodes[0]
			n.hmu.Lock()
			h := n.hosted["sink"]
			n.hmu.Unlock()

			var stoppedAt atomic.Int64 // frames offered by a consumer after it saw h stopped
			isStopped := func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.stopped }
			done := make(chan []*reviewFrame)
			go func() {
				done <- offerFramesUntil(t, n, h, "sink", 3, "zz", func(i int) bool {
					if isStopped() {
						return stoppedAt.Add(1) < 60
					}
					return true
				})
			}()
			<-started
			removed := make(chan error, 1)
			go func() { removed <- tc.rts[0].Remove(ctx, "sink") }()
			eventually(t, func() bool {
				inf, err := tc.rts[0].Agent("sink")
				return err != nil || inf.State == caxton.StateStopped
			}, "the removal to stop sink")
			close(gate)
			require.NoError(t, <-removed)
			all := <-done
			eventually(t, func() bool {
				for _, rf := range all {
					if rf.msg.acks.Load()+rf.msg.naks.Load() == 0 {
						return false
					}
				}
				return true
			}, "every frame settled")
			mu.Lock()
			defer mu.Unlock()
			handledN, backN := 0, 0
			for _, rf := range all {
				assert.Equal(t, int32(1), rf.msg.acks.Load()+rf.msg.naks.Load(), "settles of a frame")
				assert.Equal(t, int64(0), rf.f.pending.Load())
				rf.f.mu.Lock()
				again := map[int]bool{}
				for _, i := range rf.f.again {
					assert.False(t, again[i], "given back twice")
					again[i] = true
				}
				rf.f.mu.Unlock()
				for i, id := range rf.ids {
					s := seen[id]
					switch {
					case again[i]:
						backN++
						assert.Equal(t, 0, s, "%s both handled and given back", id)
					default:
						handledN++
						assert.Equal(t, 1, s, "%s neither handled nor given back", id)
					}
				}
			}
			t.Logf("handled %d, given back %d", handledN, backN)
		})
	}
}

// Each message of a frame counts once, whatever reports it: a message both
// given back and handled (a durable push that queued it but reported its
// failed sync) neither acknowledges the frame early nor comes again twice.
func TestAFramesMessagesCountOnce(t *testing.T) {
	t.Parallel()
	n := &Node{frames: map[*frame]time.Time{}}
	msg := &fakeFrameMsg{}
	f := n.hold(msg, opened{node: "n1", to: []acl.AgentID{"a", "a", "b"}}, "n0", 3)
	f.settle(0)
	f.settle(0)
	f.giveBack(0, 1) // 0 was handled: only 1 comes again
	f.giveBack(1)
	assert.Equal(t, int64(2), f.pending.Load(), "message 2 and the caller's own are left")
	f.settle(2)
	assert.Zero(t, msg.acks.Load()+msg.naks.Load())
	f.mu.Lock()
	assert.Equal(t, []int{1}, f.again)
	f.mu.Unlock()
}
