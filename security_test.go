package caxton_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/internal/abi"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const securityPolicy = `
default deny
allow host send * to *
allow host subscribe *
allow wasm:intruder send inform to agent:sink       # its one legitimate use
allow agent subscribe public.*
allow role:operator do scale,stop,start on *
`

// attackOnce is a guest that, on its first call only, emits its whole
// attack in one batch: the outbox at offset 1024.
func attackOnce(msgs ...*acl.Message) string {
	out := abi.AppendBatch(nil, msgs)
	return testguest.WATGuest(`(data (i32.const 1024) "`+testguest.WATData(out)+`")`,
		fmt.Sprintf(`(if (result i64) (i32.le_u (global.get $calls) (i32.const 1))
      (then (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const %d)))
      (else (i64.const 0)))`, len(out)))
}

// A hostile guest that messages agents it may not, writes to a private
// topic, impersonates another agent and floods its one allowed receiver is
// refused each time and audited each time; the audit chain verifies.
func TestHostileGuestIsRefusedAndAudited(t *testing.T) {
	var hooked []caxton.AuditRecord
	rt := caxtontest.NewRuntime(t, caxton.WithAuthorizer(policy.MustParse(securityPolicy)),
		caxton.WithAuditHook(func(r caxton.AuditRecord) { hooked = append(hooked, r) }))
	ctx := caxtontest.Context(t)
	vault := caxtontest.NewRecorder(t, rt.Runtime, "vault")
	sink := caxtontest.NewRecorder(t, rt.Runtime, "sink")
	private, err := rt.SubscribeFunc("private", func(context.Context, *acl.Message) error {
		t.Error("the private topic got a message")
		return nil
	})
	require.NoError(t, err)
	defer func() { _ = private.Unsubscribe(ctx) }()

	msg := func(p acl.Performative, to acl.AgentID, content string) *acl.Message {
		return &acl.Message{Performative: p, Receivers: []acl.AgentID{to}, Content: []byte(content)}
	}
	attack := []*acl.Message{
		msg(acl.Request, "vault", "open up"),
		msg(acl.Inform, acl.Topic("private"), "leak"),
		{Performative: acl.Inform, Sender: "vault", Receivers: []acl.AgentID{"sink"}, Content: []byte("I am the vault")},
	}
	for i := range 40 {
		attack = append(attack, msg(acl.Inform, "sink", fmt.Sprint("flood ", i)))
	}
	rt.MustSpawn(caxton.AgentSpec{Name: "intruder", Quota: caxton.Quota{SendRate: 1, SendBurst: 10},
		Wasm: &caxton.WasmSpec{WAT: attackOnce(attack...)}})
	rt.MustSend(msg(acl.Inform, "intruder", "go"))

	// The burst of 10 covers the two denied sends (quotas come first, so a
	// flood never reaches the authorizer) and 8 of the flood.
	sink.AwaitN(t, 8)
	caxtontest.Eventually(t, func() bool { return lcInfo(t, rt, "intruder").QuotaHits == 32 }, "32 sends over the quota")
	assert.Zero(t, vault.Len(), "the vault got nothing")
	for _, m := range sink.Messages() {
		assert.Equal(t, acl.AgentID("intruder"), m.Sender, "nothing arrived under another name")
		assert.True(t, strings.HasPrefix(string(m.Content), "flood "))
	}

	// A subscription to the private topic is refused at spawn.
	err = rt.Spawn(ctx, caxton.AgentSpec{Name: "eavesdropper", Topics: []string{"private"}, Wasm: &caxton.WasmSpec{WAT: testguest.WATNop}})
	require.ErrorIs(t, err, caxton.ErrDenied)
	var de *caxton.DeniedError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, caxton.ActionSubscribe, de.Request.Action)
	require.NoError(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "reader", Topics: []string{"public.news"}, Wasm: &caxton.WasmSpec{WAT: testguest.WATNop}}))

	recs := rt.Audit()
	require.NoError(t, caxton.VerifyAudit(recs))
	assert.Equal(t, hooked, recs, "the hook saw what Audit keeps")
	count := map[caxton.AuditKind]int{}
	for _, r := range recs {
		if !r.Allowed {
			count[r.Kind]++
		}
	}
	assert.Equal(t, map[caxton.AuditKind]int{caxton.AuditDenied: 3, caxton.AuditForged: 1, caxton.AuditQuota: 1}, count,
		"two sends and one subscription denied, one forgery, the flood's quota once (records are bounded to one a second)")
	var denied []string
	for _, r := range recs {
		if r.Kind == caxton.AuditDenied {
			denied = append(denied, r.Subject+" "+r.Action+" "+r.Target)
		}
	}
	assert.Equal(t, []string{"agent:intruder send request vault", "agent:intruder send inform topic:private", "agent:eavesdropper subscribe private"}, denied)

	// Edit one record and the chain says which.
	recs[1].Reason = "nothing to see"
	var ce *caxton.AuditChainError
	require.ErrorAs(t, caxton.VerifyAudit(recs), &ce)
	assert.Equal(t, recs[1].Seq, ce.Seq)
	require.ErrorIs(t, caxton.VerifyAudit(append(recs[:1:1], rt.Audit()[2:]...)), caxton.ErrAuditTampered, "a deleted record breaks the chain")
}

// A native agent's send to someone it may not address fails with a
// *DeniedError, and it also gets a FIPA refuse; nothing is retried or
// dead-lettered.
func TestDeniedSendIsRefusedNotDeadLettered(t *testing.T) {
	rt := caxtontest.NewRuntime(t, caxton.WithAuthorizer(policy.MustParse("allow host send * to *\nallow agent send inform to *")))
	refused := make(chan *acl.Message, 1)
	var sendErr error
	rt.MustSpawn(caxton.AgentSpec{Name: "asker", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if mc.Message().Performative == acl.Refuse {
			refused <- mc.Message()
			return nil
		}
		sendErr = mc.Send(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"asker"}})
		return nil
	})})
	rt.MustSend(lcMsg("asker", "go"))
	r := <-refused
	assert.Contains(t, string(r.Content), "agent:asker may not send request to asker")
	require.ErrorIs(t, sendErr, caxton.ErrDenied)
	info := lcInfo(t, rt, "asker")
	assert.Zero(t, info.DeadLettered)
	assert.Zero(t, info.Retried)
}

// Lifecycle operations asked for by an identity go through the authorizer
// and are audited with it; host code without one is audited as host.
func TestLifecycleOperationsCarryTheIdentity(t *testing.T) {
	rt := caxtontest.NewRuntime(t, caxton.WithAuthorizer(policy.MustParse(securityPolicy)))
	ctx := caxtontest.Context(t)
	rt.MustSpawn(caxton.AgentSpec{Name: "svc", Handler: lcNop()})
	alice := caxton.WithIdentity(ctx, caxton.Identity{Name: "alice", Roles: []string{"operator"}})
	bob := caxton.WithIdentity(ctx, caxton.Identity{Name: "bob"})
	require.NoError(t, rt.Scale(alice, "svc", 2))
	require.ErrorIs(t, rt.Remove(alice, "svc"), caxton.ErrDenied)
	require.ErrorIs(t, rt.Stop(bob, "svc"), caxton.ErrDenied)
	require.ErrorIs(t, rt.Spawn(bob, caxton.AgentSpec{Name: "more", Handler: lcNop()}), caxton.ErrDenied)
	require.NoError(t, rt.Stop(ctx, "svc"), "host code is trusted")
	var got []string
	for _, r := range rt.Audit() {
		got = append(got, fmt.Sprintf("%s %s %s %v", r.Subject, r.Action, r.Target, r.Allowed))
	}
	assert.Equal(t, []string{"host spawn svc true", "identity:alice scale svc to 2 true", "identity:alice remove svc false",
		"identity:bob stop svc false", "identity:bob spawn more false", "host stop svc true"}, got)
}

// Send quotas refill on the runtime's clock; runtime caps bound agents and
// instances.
func TestQuotasAndCaps(t *testing.T) {
	rt := caxtontest.NewRuntime(t, caxton.WithMaxAgents(2), caxton.WithMaxInstances(3))
	ctx := caxtontest.Context(t)
	results := make(chan error, 10)
	rt.MustSpawn(caxton.AgentSpec{Name: "chatty", Quota: caxton.Quota{SendRate: 2, BytesPerSecond: 100},
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			if mc.Message().Performative == acl.Refuse {
				return nil // the runtime's notice of the refused send
			}
			results <- mc.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"quiet"}, Content: mc.Message().Content})
			return nil
		})})
	rt.MustSpawn(caxton.AgentSpec{Name: "quiet", Handler: lcNop()})
	for range 3 {
		rt.MustSend(lcMsg("chatty", "x"))
	}
	require.NoError(t, <-results)
	require.NoError(t, <-results)
	err := <-results
	var qe *caxton.QuotaError
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, "send rate", qe.Quota)
	rt.Clock.Advance(time.Second)
	rt.MustSend(lcMsg("chatty", strings.Repeat("b", 150)))
	require.ErrorAs(t, <-results, &qe)
	assert.Equal(t, "bytes per second", qe.Quota)

	require.ErrorIs(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "third", Handler: lcNop()}), caxton.ErrQuotaExceeded)
	require.NoError(t, rt.Scale(ctx, "quiet", 2))
	require.ErrorAs(t, rt.Scale(ctx, "quiet", 3), &qe)
	assert.Equal(t, "instances", qe.Quota)

	var se *caxton.SpecError
	require.ErrorAs(t, rt.Spawn(ctx, caxton.AgentSpec{Name: "bad", Handler: lcNop(), Quota: caxton.Quota{SendRate: -1}}), &se)
	assert.Equal(t, "Quota.SendRate", se.Field)
}
