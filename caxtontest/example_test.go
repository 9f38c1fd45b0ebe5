package caxtontest_test

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
)

// billing is the agent under test in the examples: it answers a refund
// question with an inform.
var billing = caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
	return mc.Reply(ctx, acl.Inform, []byte("your refund was issued today"))
})

// A unit test of an agent: a recorder stands in for the customer, and the
// agent's reply is awaited, not slept for. (The body of a test function;
// TestPackageExample runs the same code.)
func Example() {
	var t *testing.T // func TestBilling(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	customer := caxtontest.NewRecorder(t, rt.Runtime, "customer")
	rt.MustSpawn(caxton.AgentSpec{Name: "billing", Handler: billing})
	rt.MustSend(&acl.Message{Performative: acl.Request, Sender: customer.Name(),
		Receivers: []acl.AgentID{"billing"}, Content: []byte("refund?")})
	got := customer.Await(t, acl.MatchPerformative(acl.Inform))
	if string(got.Content) != "your refund was issued today" {
		t.Errorf("billing answered %q", got.Content)
	}
}

// Retries and backoff run on the fake clock: wait until the worker sleeps
// in its backoff, then move time on. No test sleeps.
func ExampleRuntime_AdvanceWhenWaiting() {
	var t *testing.T // func TestRetry(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	attempts := 0
	rt.MustSpawn(caxton.AgentSpec{Name: "flaky",
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 2, Backoff: caxton.Backoff{Initial: time.Minute}},
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			attempts++
			if attempts == 1 {
				return context.DeadlineExceeded // fails once
			}
			return mc.Reply(ctx, acl.Inform, nil)
		})})
	rt.MustSend(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"flaky"}})
	rt.AdvanceWhenWaiting(1, time.Minute) // the retry's backoff
	caxtontest.AwaitInbox(t, rt.Inbox(), acl.MatchPerformative(acl.Inform))
}

// MustRequest is the shortest way to talk to an agent in a test.
func ExampleRuntime_MustRequest() {
	var t *testing.T // func TestBillingAnswers(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "billing", Handler: billing})
	reply := rt.MustRequest(&acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"billing"}})
	if reply.Performative != acl.Inform {
		t.Errorf("got %s", reply.Performative)
	}
}
