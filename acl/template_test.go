package acl_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
)

func TestTemplateMatchers(t *testing.T) {
	m := fullMessage() // Request from front-desk to billing, sales, topic:audit
	never := func(*acl.Message) bool { return false }
	for _, tc := range []struct {
		name string
		tpl  acl.Template
		want bool
	}{
		{"MatchAll", acl.MatchAll(), true},
		{"nil template", nil, true},

		{"performative hit", acl.MatchPerformative(acl.Request), true},
		{"performative one of", acl.MatchPerformative(acl.Inform, acl.Request), true},
		{"performative miss", acl.MatchPerformative(acl.Inform, acl.Agree), false},
		{"performative none", acl.MatchPerformative(), false},

		{"id hit", acl.MatchID(acl.MustParseMessageID("01934bcd-ef01-7abc-8def-0123456789ab")), true},
		{"id parsed from upper case", acl.MatchID(acl.MustParseMessageID("01934BCD-EF01-7ABC-8DEF-0123456789AB")), true},
		{"id miss", acl.MatchID(acl.MessageID{}), false},

		{"sender hit", acl.MatchSender("front-desk"), true},
		{"sender miss", acl.MatchSender("billing"), false},

		{"receiver first", acl.MatchReceiver("billing"), true},
		{"receiver topic", acl.MatchReceiver(acl.Topic("audit")), true},
		{"receiver miss", acl.MatchReceiver("front-desk"), false},
		{"receiver prefix is not enough", acl.MatchReceiver("bill"), false},

		{"reply_to hit", acl.MatchReplyTo("front-desk.replies"), true},
		{"reply_to miss", acl.MatchReplyTo("front-desk"), false},

		{"conversation hit", acl.MatchConversationID("c-1"), true},
		{"conversation miss", acl.MatchConversationID("c-2"), false},

		{"reply_with hit", acl.MatchReplyWith("r-1"), true},
		{"reply_with miss", acl.MatchReplyWith("r-0"), false},

		{"in_reply_to hit", acl.MatchInReplyTo("r-0"), true},
		{"in_reply_to miss", acl.MatchInReplyTo("r-1"), false},

		{"protocol hit", acl.MatchProtocol("fipa-request"), true},
		{"protocol miss", acl.MatchProtocol("fipa-contract-net"), false},

		{"ontology hit", acl.MatchOntology("billing"), true},
		{"ontology miss", acl.MatchOntology("sales"), false},

		{"language hit", acl.MatchLanguage("json"), true},
		{"language miss", acl.MatchLanguage("fipa-sl"), false},

		{"encoding hit", acl.MatchEncoding("utf-8"), true},
		{"encoding miss", acl.MatchEncoding("UTF-8"), false},

		{"priority hit", acl.MatchPriority(acl.PriorityHigh), true},
		{"priority miss", acl.MatchPriority(acl.PriorityNormal), false},

		{"param hit", acl.MatchParam("X-Tenant", "acme"), true},
		{"param wrong value", acl.MatchParam("X-Tenant", "other"), false},
		{"param key is case-sensitive", acl.MatchParam("x-tenant", "acme"), false},
		{"param absent with empty value", acl.MatchParam("X-Missing", ""), false},

		{"content hit", acl.MatchContent([]byte(`{"invoice":42,"note":"café ☕"}`)), true},
		{"content miss", acl.MatchContent([]byte(`{"invoice":43}`)), false},
		{"content nil", acl.MatchContent(nil), false},

		{"content func hit", acl.MatchContentFunc(func(b []byte) bool { return bytes.Contains(b, []byte("invoice")) }), true},
		{"content func miss", acl.MatchContentFunc(func(b []byte) bool { return len(b) == 0 }), false},

		{"custom hit", acl.Custom(func(m *acl.Message) bool { return len(m.Receivers) == 3 }), true},
		{"custom miss", acl.Custom(never), false},

		{"And none", acl.And(), true},
		{"And all hit", acl.And(acl.MatchSender("front-desk"), acl.MatchPerformative(acl.Request)), true},
		{"And one miss", acl.And(acl.MatchSender("front-desk"), acl.MatchPerformative(acl.Inform)), false},
		{"And with nil", acl.And(nil, acl.MatchAll()), true},

		{"Or none", acl.Or(), false},
		{"Or one hit", acl.Or(acl.MatchSender("nobody"), acl.MatchProtocol("fipa-request")), true},
		{"Or all miss", acl.Or(acl.MatchSender("nobody"), acl.MatchProtocol("x")), false},
		{"Or with nil", acl.Or(acl.Custom(never), nil), true},

		{"Not hit", acl.Not(acl.MatchSender("nobody")), true},
		{"Not miss", acl.Not(acl.MatchSender("front-desk")), false},
		{"Not nil", acl.Not(nil), false},
		{"Not Not", acl.Not(acl.Not(acl.MatchSender("front-desk"))), true},

		{"nested", acl.And(
			acl.Or(acl.MatchPerformative(acl.Inform), acl.MatchPerformative(acl.Request)),
			acl.Not(acl.MatchPriority(acl.PriorityLow)),
			acl.MatchConversationID("c-1"),
		), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.tpl.Match(m))
			// Whatever the template, a nil message matches nothing.
			assert.False(t, tc.tpl.Match(nil))
		})
	}
}

func TestTemplateContentNilAndEmpty(t *testing.T) {
	empty := acl.New(acl.Inform, "a")
	assert.True(t, acl.MatchContent(nil).Match(empty))
	assert.True(t, acl.MatchContent([]byte{}).Match(empty))
	empty.Content = []byte{}
	assert.True(t, acl.MatchContent(nil).Match(empty))
	assert.False(t, acl.MatchContent([]byte{0}).Match(empty))
}

func TestMatchContentCopiesInput(t *testing.T) {
	want := []byte("hello")
	tpl := acl.MatchContent(want)
	want[0] = 'j' // mutating the argument afterwards must not change the template

	m := acl.New(acl.Inform, "a")
	m.Content = []byte("hello")
	assert.True(t, tpl.Match(m))
	m.Content = []byte("jello")
	assert.False(t, tpl.Match(m))
}

func TestTemplateVariadicArgumentsAreCopied(t *testing.T) {
	m := acl.New(acl.Inform, "a")

	ps := []acl.Performative{acl.Inform}
	byAct := acl.MatchPerformative(ps...)
	ps[0] = acl.Request
	assert.True(t, byAct.Match(m))

	ts := []acl.Template{acl.MatchAll()}
	and := acl.And(ts...)
	or := acl.Or(ts...)
	ts[0] = acl.Not(acl.MatchAll())
	assert.True(t, and.Match(m))
	assert.True(t, or.Match(m))
}

func TestTemplateShortCircuit(t *testing.T) {
	m := acl.New(acl.Inform, "a")
	boom := acl.Custom(func(*acl.Message) bool { panic("must not be evaluated") })
	assert.False(t, acl.And(acl.Not(acl.MatchAll()), boom).Match(m))
	assert.True(t, acl.Or(acl.MatchAll(), boom).Match(m))
}

func TestCustomSeesTheMessage(t *testing.T) {
	m := acl.New(acl.Inform, "a")
	var got []*acl.Message
	tpl := acl.Custom(func(x *acl.Message) bool { got = append(got, x); return true })
	require.True(t, tpl.Match(m))
	require.False(t, tpl.Match(nil))
	require.Len(t, got, 1, "a nil message must not reach the predicate")
	assert.Same(t, m, got[0])

	// Custom is a plain conversion: calling the template directly works too.
	assert.True(t, tpl(m))
	assert.Len(t, got, 2)
}

func TestTemplateSelectsFromMailbox(t *testing.T) {
	var box []*acl.Message
	for i, p := range []acl.Performative{acl.Inform, acl.Request, acl.Inform, acl.Failure} {
		m := acl.New(p, "me")
		m.ConversationID = []string{"a", "b", "b", "b"}[i]
		box = append(box, m)
	}
	tpl := acl.And(acl.MatchConversationID("b"), acl.MatchPerformative(acl.Inform, acl.Failure))
	var picked []acl.Performative
	for _, m := range box {
		if tpl.Match(m) {
			picked = append(picked, m.Performative)
		}
	}
	assert.Equal(t, []acl.Performative{acl.Inform, acl.Failure}, picked)
}
