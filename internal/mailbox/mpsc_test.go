package mailbox_test

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/mailbox"
	"github.com/caxton-go/caxton/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// worker runs the worker protocol on m until it retires, recording what it
// took. It is what the runtime's worker does, minus the handler.
func mbRunWorker(m *mailbox.Mailbox, mu *sync.Mutex, got *[]string) {
	buf := make([]*store.Envelope, 8)
	for {
		es := m.Take(buf)
		if len(es) == 0 {
			if m.Idle() {
				return
			}
			continue
		}
		mu.Lock()
		for _, e := range es {
			*got = append(*got, string(e.Msg.Content))
		}
		mu.Unlock()
		m.Done(len(es))
	}
}

// Many senders and on-demand workers: every message arrives exactly once,
// and each sender's messages arrive in the order it sent them.
func TestConcurrentSendersKeepPerSenderOrder(t *testing.T) {
	const senders, each = 8, 2000
	var (
		mu   sync.Mutex
		got  []string
		wg   sync.WaitGroup
		m    *mailbox.Mailbox
		runs sync.WaitGroup
	)
	q, err := store.NewMemory().OpenQueue("mb")
	require.NoError(t, err)
	m = mailbox.New(q, 64, func() {
		runs.Add(1)
		go func() { defer runs.Done(); mbRunWorker(m, &mu, &got) }()
	})
	m.Resume()
	ctx := context.Background()
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := m.Push(ctx, mbEnv(strconv.Itoa(s)+"/"+strconv.Itoa(i), 0), true, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	<-m.Exited() // the last worker retires once the box is empty
	runs.Wait()
	require.Len(t, got, senders*each)
	next := make([]int, senders)
	for _, g := range got {
		s, i, _ := strings.Cut(g, "/")
		sn, _ := strconv.Atoi(s)
		in, _ := strconv.Atoi(i)
		require.Equal(t, next[sn], in, "sender %d out of order", sn)
		next[sn]++
	}
	assert.Equal(t, 0, m.Load())
}

// Close racing with senders: every Push that succeeded is either taken or
// handed back by Close, and every later Push fails with ErrClosed.
func TestCloseRacingSendersLosesNothing(t *testing.T) {
	for round := range 20 {
		q, err := store.NewMemory().OpenQueue("mb")
		require.NoError(t, err)
		m := mailbox.New(q, 1<<20, func() {})
		ctx := context.Background()
		var ok [4][]string
		var wg sync.WaitGroup
		for s := range ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 5000; i++ {
					c := strconv.Itoa(s) + "/" + strconv.Itoa(i)
					err := m.Push(ctx, mbEnv(c, acl.Priority(i%3)), false, nil)
					if err != nil {
						assert.ErrorIs(t, err, mailbox.ErrClosed)
						return
					}
					ok[s] = append(ok[s], c)
				}
			}()
		}
		for m.Depth() < 200 { // let the senders get going
			runtime.Gosched()
		}
		taken := mbContents(m.Take(make([]*store.Envelope, 50+round)))
		rest := mbContents(m.Close())
		wg.Wait()
		var want []string
		for _, o := range ok {
			want = append(want, o...)
		}
		have := append(taken, rest...)
		slices.Sort(want)
		slices.Sort(have)
		require.Equal(t, len(want), len(have), "round %d", round)
		require.True(t, slices.Equal(want, have), "round %d: different envelopes", round)
		assert.Equal(t, 0, m.Depth())
	}
}
