package policy_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const rules = `
# who may say what to whom
default deny
allow host send * to *
deny  wasm send * to inbox:*            # sandboxed agents never write to the host's inboxes
allow role:billing send request,inform to agent:ledger, topic:invoices.*
allow agent send inform to topic:public.*
allow agent subscribe public.*
allow role:operator do scale,upgrade,stop,start on *
allow identity:root do * on *
`

func send(sub caxton.Subject, p acl.Performative, to string) caxton.AuthzRequest {
	return caxton.AuthzRequest{Action: caxton.ActionSend, Subject: sub, Performative: p, Target: to}
}

func TestPolicyDecides(t *testing.T) {
	p, err := policy.Parse(rules)
	require.NoError(t, err)
	billing := caxton.Subject{Kind: caxton.SubjectAgent, Name: "billing", Roles: []string{"billing"}}
	guest := caxton.Subject{Kind: caxton.SubjectAgent, Name: "guest", Wasm: true, Roles: []string{"billing"}}
	ops := caxton.Subject{Kind: caxton.SubjectIdentity, Name: "alice", Roles: []string{"operator"}}
	tests := []struct {
		name  string
		req   caxton.AuthzRequest
		allow bool
		why   string
	}{
		{"host sends anything", send(caxton.Subject{Kind: caxton.SubjectHost}, acl.CFP, "anyone"), true, ""},
		{"role sends what it may", send(billing, acl.Request, "ledger"), true, ""},
		{"role to a topic pattern", send(billing, acl.Inform, "topic:invoices.2026"), true, ""},
		{"role: other performative", send(billing, acl.CFP, "ledger"), false, "default deny"},
		{"role: other receiver", send(billing, acl.Request, "payroll"), false, "default deny"},
		{"wasm to an inbox: the deny line comes first", send(guest, acl.Inform, "gateway"), false, "line 5"},
		{"public topic for every agent", send(guest, acl.Inform, "topic:public.news"), true, ""},
		{"not other topics", send(guest, acl.Inform, "topic:private.keys"), false, "default deny"},
		{"subscribe public", caxton.AuthzRequest{Action: caxton.ActionSubscribe, Subject: guest, Target: "public.news"}, true, ""},
		{"subscribe private", caxton.AuthzRequest{Action: caxton.ActionSubscribe, Subject: guest, Target: "private.keys"}, false, "default deny"},
		{"operator scales", caxton.AuthzRequest{Action: caxton.ActionScale, Subject: ops, Target: "billing to 3"}, true, ""},
		{"operator cannot remove", caxton.AuthzRequest{Action: caxton.ActionRemove, Subject: ops, Target: "billing"}, false, "default deny"},
		{"root does anything", caxton.AuthzRequest{Action: caxton.ActionPurge, Subject: caxton.Subject{Kind: caxton.SubjectIdentity, Name: "root"}, Target: "all"}, true, ""},
		{"an agent role does not do lifecycle on its own", caxton.AuthzRequest{Action: caxton.ActionSend, Subject: ops, Target: "x", Performative: acl.Inform}, false, "default deny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Authorize(context.Background(), tt.req)
			if tt.allow {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.why)
		})
	}
}

func TestPolicyParseErrorsNameTheLine(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"allow", "line 1: a rule needs a subject"},
		{"\npermit * send * to *", `line 2: a rule starts with allow, deny or default, not "permit"`},
		{"allow robot send * to *", `subject "robot"`},
		{"allow * send shout to *", `performative "shout"`},
		{"allow * send * *", `send needs "PERFORMATIVES to TARGETS"`},
		{"allow * do fly on *", `action "fly"`},
		{"allow * send * to a,,b", "an empty target"},
		{"default maybe", `"default" takes allow or deny`},
		{"default allow\ndefault deny", "line 2: a second default line"},
		{"allow role:* do * on *", "role needs a name"},
	} {
		_, err := policy.Parse(tt.text)
		require.ErrorIs(t, err, policy.ErrParse, tt.text)
		var pe *policy.ParseError
		require.ErrorAs(t, err, &pe)
		assert.Contains(t, err.Error(), tt.want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(rules)
	f.Add("allow * send * to *")
	f.Add("deny wasm:g* subscribe topic:*a*b*c*")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := policy.Parse(text)
		if err != nil {
			return
		}
		// Whatever parses decides without panicking, on hostile targets too.
		for _, target := range []string{"", "*", "topic:", "topic:a.b", "x" + text} {
			_ = p.Authorize(context.Background(), send(caxton.Subject{Kind: caxton.SubjectAgent, Name: text, Wasm: true, Roles: []string{text}}, acl.Inform, target))
			_ = p.Authorize(context.Background(), caxton.AuthzRequest{Action: caxton.ActionSubscribe, Subject: caxton.Subject{Kind: caxton.SubjectIdentity, Name: text}, Target: target})
		}
	})
}
