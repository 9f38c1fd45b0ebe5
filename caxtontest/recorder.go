package caxtontest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

// Recorder is an agent that captures every message it receives. Optionally
// it answers each one (see RecorderReply).
type Recorder struct {
	name   acl.AgentID
	mu     sync.Mutex
	msgs   []*acl.Message
	notify chan struct{}
	reply  func(*acl.Message) *acl.Message
}

// RecorderOption configures a Recorder.
type RecorderOption func(*Recorder, *caxton.AgentSpec)

// RecorderReply makes the recorder answer each message with f's result
// (nil: no answer). Use it to stand in for a peer agent.
func RecorderReply(f func(in *acl.Message) *acl.Message) RecorderOption {
	return func(r *Recorder, _ *caxton.AgentSpec) { r.reply = f }
}

// RecorderSpec lets a test adjust the recorder's AgentSpec (mailbox size,
// topics, ...); Name and Handler are the recorder's own.
func RecorderSpec(f func(*caxton.AgentSpec)) RecorderOption {
	return func(_ *Recorder, s *caxton.AgentSpec) { f(s) }
}

// NewRecorder spawns a recorder agent named name on rt, or fails the test.
func NewRecorder(t testing.TB, rt *caxton.Runtime, name acl.AgentID, opts ...RecorderOption) *Recorder {
	t.Helper()
	r := &Recorder{name: name, notify: make(chan struct{})}
	spec := caxton.AgentSpec{}
	for _, o := range opts {
		o(r, &spec)
	}
	spec.Name = name
	spec.Handler = caxton.HandlerFunc(r.handle)
	if err := rt.Spawn(Context(t), spec); err != nil {
		t.Fatalf("caxtontest: spawn recorder %q: %v", name, err)
	}
	return r
}

func (r *Recorder) handle(ctx context.Context, mc *caxton.MessageContext) error {
	m := mc.Message()
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	close(r.notify)
	r.notify = make(chan struct{})
	r.mu.Unlock()
	if r.reply != nil {
		if out := r.reply(m); out != nil {
			return mc.Send(ctx, out)
		}
	}
	return nil
}

// Name returns the recorder's agent name.
func (r *Recorder) Name() acl.AgentID { return r.name }

// Messages returns what the recorder has received so far, in order.
func (r *Recorder) Messages() []*acl.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// Len returns how many messages the recorder has received.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// Await waits until the recorder has received a message matching tmpl (nil:
// any) and returns the first such message, or fails the test after
// DefaultTimeout listing what did arrive.
func (r *Recorder) Await(t testing.TB, tmpl acl.Template) *acl.Message {
	t.Helper()
	return r.AwaitWithin(t, DefaultTimeout, tmpl)
}

// AwaitWithin is Await with an explicit bound.
func (r *Recorder) AwaitWithin(t testing.TB, d time.Duration, tmpl acl.Template) *acl.Message {
	t.Helper()
	var found *acl.Message
	r.wait(t, d, func(msgs []*acl.Message) bool {
		for _, m := range msgs {
			if tmpl.Match(m) {
				found = m
				return true
			}
		}
		return false
	}, "matching message")
	return found
}

// AwaitN waits until the recorder has received at least n messages and
// returns the first n.
func (r *Recorder) AwaitN(t testing.TB, n int) []*acl.Message {
	t.Helper()
	var got []*acl.Message
	r.wait(t, DefaultTimeout, func(msgs []*acl.Message) bool {
		if len(msgs) >= n {
			got = slices.Clone(msgs[:n])
			return true
		}
		return false
	}, fmt.Sprintf("%d messages", n))
	return got
}

func (r *Recorder) wait(t testing.TB, d time.Duration, done func([]*acl.Message) bool, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		r.mu.Lock()
		ok := done(r.msgs)
		ch, n := r.notify, len(r.msgs)
		summary := make([]string, 0, min(n, 10))
		if !ok {
			for _, m := range r.msgs[:min(n, 10)] {
				summary = append(summary, m.String())
			}
		}
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("caxtontest: recorder %q: no %s after %v; it has %d message(s): %v", r.name, what, d, n, summary)
			return
		}
	}
}
