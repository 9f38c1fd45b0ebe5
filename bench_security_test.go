package caxton_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/policy"
)

// benchPolicy is a realistic rule set: the host's line is not the first,
// so a host send walks several rules before it matches.
const benchPolicy = `
default deny
deny  wasm send * to inbox:*
allow role:billing send request,inform to agent:ledger, topic:invoices.*
allow agent send inform to topic:public.*
allow agent subscribe public.*
allow host send * to *
`

// BenchmarkOneToOnePolicy is BenchmarkOneToOne with the built-in rule set
// checking every send, beside the same with no authorizer, in one run: the
// cost of authorization on the hot path.
func BenchmarkOneToOnePolicy(b *testing.B) {
	b.Run("no-authorizer", func(b *testing.B) { oneToOne(b, newBenchRuntime(b)) })
	b.Run("policy", func(b *testing.B) {
		rt, err := caxton.New(caxton.WithAuthorizer(policy.MustParse(benchPolicy)))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = rt.Close(context.Background()) })
		oneToOne(b, rt)
	})
}

// BenchmarkRequestBesideAttacker measures a well-behaved agent's
// request/reply latency while a native attacker floods sends the policy
// denies and its quota refuses, beside the same with no attacker.
func BenchmarkRequestBesideAttacker(b *testing.B) {
	for _, attacked := range []bool{false, true} {
		b.Run(fmt.Sprintf("attacker=%v", attacked), func(b *testing.B) {
			rt, err := caxton.New(caxton.WithAuthorizer(policy.MustParse(benchPolicy + "allow agent:ops send * to *\nallow agent send * to agent:ops\n")))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = rt.Close(context.Background()) })
			ctx := context.Background()
			if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "ops", NewHandler: echoFactory}); err != nil {
				b.Fatal(err)
			}
			stop := make(chan struct{})
			done := make(chan struct{})
			if attacked {
				// The attacker floods at a steady rate rather than spinning
				// (a native handler that spins owns a core whatever the
				// runtime does): every 100 µs a poke makes it try 10 sends
				// the policy denies, past its quota soon — 100,000 a second.
				err := rt.Spawn(ctx, caxton.AgentSpec{Name: "attacker", Quota: caxton.Quota{SendRate: 1000},
					Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
						if mc.Message().Performative != acl.Inform {
							return nil // the runtime's refuse notices
						}
						for range 5 {
							_ = mc.Send(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"vault"}})
							_ = mc.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{acl.Topic("private")}})
						}
						return nil
					})})
				if err != nil {
					b.Fatal(err)
				}
				go func() {
					defer close(done)
					t := time.NewTicker(100 * time.Microsecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							_ = rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"attacker"}})
						}
					}
				}()
			} else {
				close(done)
			}
			benchRequests(b, rt, "ops", nil)
			close(stop)
			<-done
		})
	}
}

// BenchmarkOneToOneMeasureCPU is BenchmarkOneToOne with the receiver's
// CPU time measured (AgentSpec.MeasureCPU), beside the same without, in
// one run: the cost of CPU accounting per handler call, at its worst (a
// handler that does nothing).
func BenchmarkOneToOneMeasureCPU(b *testing.B) {
	for _, measure := range []bool{false, true} {
		b.Run(fmt.Sprintf("measure=%v", measure), func(b *testing.B) {
			rt := newBenchRuntime(b)
			done := make(chan struct{})
			ctx := context.Background()
			if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "sink", MeasureCPU: measure, Handler: countingAgent(int64(b.N), done)}); err != nil {
				b.Fatal(err)
			}
			to := []acl.AgentID{"sink"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: to}); err != nil {
					b.Fatal(err)
				}
			}
			<-done
		})
	}
}

// BenchmarkRequestReplyMeasureCPU is BenchmarkRequestReply with the
// responder's CPU time measured, beside the same without: one message per
// batch, so the thread CPU clock is read around every message — the
// accounting's worst case per message.
func BenchmarkRequestReplyMeasureCPU(b *testing.B) {
	for _, measure := range []bool{false, true} {
		b.Run(fmt.Sprintf("measure=%v", measure), func(b *testing.B) {
			rt := newBenchRuntime(b)
			if err := rt.Spawn(context.Background(), caxton.AgentSpec{Name: "echo", MeasureCPU: measure, Handler: echo()}); err != nil {
				b.Fatal(err)
			}
			benchRequests(b, rt, "echo", nil)
		})
	}
}
