//go:build !wasip1

// The runtime (wasmtime, cgo) does not build for wasip1: tests against it
// run on the host only.

package protocol_test

import (
	"context"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/require"
)

// protocolFrame matches a goroutine running the package's own machinery.
var protocolFrame = regexp.MustCompile(`caxton-go/caxton/protocol\.\(\*(Client|Conversation|Subscription|exchange)\)`)

// protocolGoroutines returns the stacks of goroutines in protocol code.
func protocolGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if protocolFrame.MatchString(g) {
			out = append(out, g)
		}
	}
	return out
}

// Not parallel: it counts goroutines, so it runs while no other test does.
func TestNoGoroutineOutlivesTheClient(t *testing.T) {
	e := newEnv(t)
	sr := &protocol.SubscribeResponder{}
	e.spawn("news", protocol.Mux{
		protocol.FIPASubscribe: sr,
		protocol.FIPARequest:   protocol.RequestResponder{Agree: true, Do: func(context.Context, *acl.Message) ([]byte, error) { return nil, nil }},
	})
	slow := e.peer("slow", nil)

	m := acl.New(0, "news")
	m.ReplyBy = e.rt.Clock.Now().Add(time.Hour)
	_, err := e.c.Request(e.ctx, m)
	require.NoError(t, err)

	m = acl.New(0, "slow")
	m.ReplyBy = e.rt.Clock.Now().Add(time.Second)
	done := result(func() error { _, err := e.c.Request(e.ctx, m); return err })
	slow.next(t)
	e.rt.AdvanceWhenWaiting(1, time.Second)
	require.ErrorIs(t, recv(t, done), protocol.ErrTimeout)

	sub, err := e.c.Subscribe(e.ctx, acl.New(0, "news"))
	require.NoError(t, err)
	require.NoError(t, sr.Publish(e.ctx, hostSend(e.rt, "news"), []byte("x")))
	_, err = sub.Next(e.ctx)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	_, err = sub.Next(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, sub.Cancel(e.ctx))

	abandoned, err := e.c.Subscribe(e.ctx, acl.New(0, "news"))
	require.NoError(t, err)
	_ = abandoned // never cancelled: the client's Close must still end it

	require.NotEmpty(t, protocolGoroutines(), "the check sees the client's own goroutine")
	require.NoError(t, e.c.Close())
	deadline := time.Now().Add(caxtontest.DefaultTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for left := protocolGoroutines(); len(left) > 0; left = protocolGoroutines() {
		if time.Now().After(deadline) {
			t.Fatalf("%d protocol goroutine(s) outlived the client:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		<-tick.C
	}
	_, err = abandoned.Next(e.ctx)
	require.ErrorIs(t, err, protocol.ErrClosed)
}
