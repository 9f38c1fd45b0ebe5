package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/cluster/embedded"
	"github.com/stretchr/testify/require"
)

// testCluster is a real NATS cluster (embedded, loopback) and runtimes
// joined to it, one node each.
type testCluster struct {
	t     *testing.T
	nats  *embedded.Cluster
	nodes []*Node
	rts   []*caxton.Runtime

	closing sync.WaitGroup              // crashed runtimes closing
	rtOpts  func(i int) []caxton.Option // options of runtime i, if set
}

// newTestCluster starts servers NATS servers and runtimes nodes named
// n0, n1, ...
func newTestCluster(t *testing.T, servers, runtimes int, opts ...Option) *testCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nc, err := embedded.Start(ctx, servers)
	require.NoError(t, err)
	tc := &testCluster{t: t, nats: nc}
	t.Cleanup(tc.close)
	for i := range runtimes {
		tc.join(i, opts...)
	}
	return tc
}

// join starts runtime i (a new one, or one replacing a crashed node).
func (tc *testCluster) join(i int, opts ...Option) {
	tc.t.Helper()
	base := []Option{WithURLs(tc.nats.URLs()...), WithLease(1500 * time.Millisecond), WithAckWait(2 * time.Second),
		WithConnectWait(time.Minute)} // a just-formed cluster on a loaded machine
	n, err := New(nodeName(i), append(base, opts...)...)
	require.NoError(tc.t, err)
	rtOpts := []caxton.Option{caxton.WithCluster(n)}
	if tc.rtOpts != nil {
		rtOpts = append(rtOpts, tc.rtOpts(i)...)
	}
	rt, err := caxton.New(rtOpts...)
	require.NoError(tc.t, err)
	for len(tc.nodes) <= i {
		tc.nodes = append(tc.nodes, nil)
		tc.rts = append(tc.rts, nil)
	}
	tc.nodes[i], tc.rts[i] = n, rt
}

func nodeName(i int) string { return "n" + string(rune('0'+i)) }

// crash makes node i vanish as a killed process would: its NATS
// connection drops, its lease is not renewed, nothing is withdrawn, and
// messages it took but did not acknowledge go back to JetStream after the
// ack wait. Its runtime is closed afterwards (the agents' local work is
// abandoned with the process it stands for).
func (tc *testCluster) crash(i int) {
	n, rt := tc.nodes[i], tc.rts[i]
	n.crash()
	tc.nodes[i], tc.rts[i] = nil, nil
	tc.closing.Add(1)
	go func() { // a handler may be stuck: Close waits for it in the background
		defer tc.closing.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = rt.Close(ctx)
	}()
}

func (tc *testCluster) close() {
	if tc.t.Failed() { // what the nodes refused or dead-lettered explains most failures
		for i, n := range tc.nodes {
			if n == nil {
				continue
			}
			rs, _ := n.Rejections()
			dls, _ := tc.rts[i].DeadLetters(context.Background())
			tc.t.Logf("node %s: rejected %v; dead letters %v", n.Name(), rs, dls)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), caxtontest.DefaultTimeout)
	defer cancel()
	for i, rt := range tc.rts {
		if rt != nil {
			if err := rt.Close(ctx); err != nil {
				tc.t.Errorf("closing runtime %d: %v", i, err)
			}
		}
	}
	tc.closing.Wait()
	tc.nats.Close()
}

// crash drops the node's connection without any of Close's withdrawals.
func (n *Node) crash() {
	if !n.closed.CompareAndSwap(false, true) {
		return
	}
	close(n.done)
	n.stop()
	n.nc.Close()
}
