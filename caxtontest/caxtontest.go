// Package caxtontest helps unit-test agents, the way net/http/httptest helps
// test handlers: an in-memory runtime on a fake clock that closes itself
// when the test ends, a Recorder agent that captures what it receives, and
// helpers that wait for messages with a bound instead of sleeping.
//
//	func TestBilling(t *testing.T) {
//		rt := caxtontest.NewRuntime(t)
//		customer := caxtontest.NewRecorder(t, rt.Runtime, "customer")
//		rt.MustSpawn(caxton.AgentSpec{Name: "billing", Handler: billing})
//		rt.MustSend(&acl.Message{Performative: acl.Request, Sender: customer.Name(),
//			Receivers: []acl.AgentID{"billing"}, Content: []byte("refund?")})
//		got := customer.Await(t, acl.MatchPerformative(acl.Inform)) // billing's reply
//		...
//	}
//
// The host may send in any agent's name, so the recorder stands in for the
// customer and billing's reply reaches it. (A reply to a plain host send
// goes to the host inbox instead: read it with AwaitInbox(t, rt.Inbox(), ...)
// or use MustRequest.)
package caxtontest

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/clock"
)

// DefaultTimeout bounds every wait in this package. It is a safety net for
// a broken test, not a sleep: waits return as soon as their condition holds.
const DefaultTimeout = 5 * time.Second

// SpawnTimeout bounds MustSpawn. It is longer than DefaultTimeout because
// spawning a wasm agent compiles its module (once per process or cache),
// which wasmtime cannot interrupt and which takes seconds on a cold,
// busy machine — a first run of a test suite compiles dozens of modules
// at once, and a small one can wait behind a large one's compilation.
const SpawnTimeout = 2 * time.Minute

// Runtime is a caxton.Runtime on a fake clock, closed by t.Cleanup.
type Runtime struct {
	*caxton.Runtime
	// Clock drives time: retries, backoff and deadlines wait for it.
	Clock *clock.Fake
	t     testing.TB
}

// NewRuntime returns a runtime for t with a fake clock (opts may override
// anything, including the clock; Clock is the runtime's clock if that is a
// *clock.Fake). It is closed when the test ends; a Close
// error fails the test.
func NewRuntime(t testing.TB, opts ...caxton.Option) *Runtime {
	t.Helper()
	fc := clock.NewFake(time.Time{})
	rt, err := caxton.New(append([]caxton.Option{caxton.WithClock(fc)}, opts...)...)
	if err != nil {
		t.Fatalf("caxtontest: new runtime: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
		defer cancel()
		if err := rt.Close(ctx); err != nil {
			t.Errorf("caxtontest: close runtime: %v", err)
		}
	})
	if c, ok := rt.Clock().(*clock.Fake); ok { // opts may have passed their own fake
		fc = c
	}
	return &Runtime{Runtime: rt, Clock: fc, t: t}
}

// Context returns a context bounded by DefaultTimeout and cancelled when the
// test ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	t.Cleanup(cancel)
	return ctx
}

// SpawnContext is a context for a Spawn whose outcome the test checks
// itself (an expected error, say): it ends after SpawnTimeout, not
// DefaultTimeout, so a module's compilation on a cold machine does not turn
// the error under test into a deadline. Cancelled when the test ends.
func SpawnContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), SpawnTimeout)
	t.Cleanup(cancel)
	return ctx
}

// MustSpawn spawns spec or fails the test, waiting up to SpawnTimeout.
func (r *Runtime) MustSpawn(spec caxton.AgentSpec) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), SpawnTimeout)
	defer cancel()
	if err := r.Spawn(ctx, spec); err != nil {
		r.t.Fatalf("caxtontest: spawn %q: %v", spec.Name, err)
	}
}

// MustSend sends m from the host or fails the test.
func (r *Runtime) MustSend(m *acl.Message) {
	r.t.Helper()
	if err := r.Send(Context(r.t), m); err != nil {
		r.t.Fatalf("caxtontest: send %v: %v", m, err)
	}
}

// MustRequest makes a request from the host and returns the reply, or
// fails the test.
func (r *Runtime) MustRequest(m *acl.Message) *acl.Message {
	r.t.Helper()
	reply, err := r.Request(Context(r.t), m)
	if err != nil {
		r.t.Fatalf("caxtontest: request %v: %v", m, err)
	}
	return reply
}

// AdvanceWhenWaiting waits until at least n timers are pending on the fake
// clock (for example a worker in retry backoff), then advances it by d.
// This is the sleep-free way to step through retries.
func (r *Runtime) AdvanceWhenWaiting(n int, d time.Duration) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	if err := r.Clock.BlockUntil(ctx, n); err != nil {
		r.t.Fatalf("caxtontest: %d timer(s) never became pending (have %d): %v", n, r.Clock.Pending(), err)
	}
	r.Clock.Advance(d)
}

// AwaitDeadLetters waits until the dead-letter queue holds at least n
// entries and returns them.
func (r *Runtime) AwaitDeadLetters(n int) []caxton.DeadLetter {
	r.t.Helper()
	var dls []caxton.DeadLetter
	Eventually(r.t, func() bool {
		var err error
		dls, err = r.DeadLetters(context.Background())
		return err == nil && len(dls) >= n
	}, "dead-letter queue to reach %d entries", n)
	return dls
}

// Eventually checks cond every millisecond until it holds, failing the test
// after DefaultTimeout with the description what. Prefer a Recorder or an
// Inbox when waiting for a message; use this for counters and states.
func Eventually(t testing.TB, cond func() bool, what string, args ...any) {
	t.Helper()
	EventuallyWithin(t, DefaultTimeout, cond, what, args...)
}

// EventuallyWithin is Eventually with an explicit bound d.
func EventuallyWithin(t testing.TB, d time.Duration, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("caxtontest: timed out after %v waiting for "+what, append([]any{d}, args...)...)
		}
		<-tick.C
	}
}

// AwaitInbox waits for a message matching tmpl (nil: any) in ib.
func AwaitInbox(t testing.TB, ib *caxton.Inbox, tmpl acl.Template) *acl.Message {
	t.Helper()
	m, err := ib.ReceiveMatching(Context(t), tmpl)
	if err != nil {
		t.Fatalf("caxtontest: no matching message in inbox %q: %v", ib.Name(), err)
	}
	return m
}
