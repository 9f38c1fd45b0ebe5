package acl_test

import (
	"encoding"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/acl"
)

// fipaActs lists the 22 acts of FIPA SC00037J in specification order with
// their names.
var fipaActs = []struct {
	p    acl.Performative
	name string
}{
	{acl.AcceptProposal, "accept-proposal"},
	{acl.Agree, "agree"},
	{acl.Cancel, "cancel"},
	{acl.CFP, "cfp"},
	{acl.Confirm, "confirm"},
	{acl.Disconfirm, "disconfirm"},
	{acl.Failure, "failure"},
	{acl.Inform, "inform"},
	{acl.InformIf, "inform-if"},
	{acl.InformRef, "inform-ref"},
	{acl.NotUnderstood, "not-understood"},
	{acl.Propagate, "propagate"},
	{acl.Propose, "propose"},
	{acl.Proxy, "proxy"},
	{acl.QueryIf, "query-if"},
	{acl.QueryRef, "query-ref"},
	{acl.Refuse, "refuse"},
	{acl.RejectProposal, "reject-proposal"},
	{acl.Request, "request"},
	{acl.RequestWhen, "request-when"},
	{acl.RequestWhenever, "request-whenever"},
	{acl.Subscribe, "subscribe"},
}

// mixCase upper-cases every other letter: "inform-if" -> "InFoRm-iF".
func mixCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func TestPerformativeStringParseRoundTrip(t *testing.T) {
	require.Len(t, fipaActs, 22)
	for i, tc := range fipaActs {
		t.Run(tc.name, func(t *testing.T) {
			// Values are stable: specification order starting at 1.
			assert.Equal(t, acl.Performative(i+1), tc.p)
			assert.True(t, tc.p.Valid())
			assert.Equal(t, tc.name, tc.p.String())

			inputs := []string{
				tc.name,
				strings.ToUpper(tc.name),
				mixCase(tc.name),
				"  " + tc.name + " \t\n",
				strings.ReplaceAll(tc.name, "-", "_"),
				strings.ReplaceAll(strings.ToUpper(tc.name), "-", "_"),
				" " + strings.ReplaceAll(mixCase(tc.name), "-", "_") + " ",
			}
			for _, in := range inputs {
				p, err := acl.ParsePerformative(in)
				require.NoError(t, err, "input %q", in)
				assert.Equal(t, tc.p, p, "input %q", in)
			}

			text, err := tc.p.MarshalText()
			require.NoError(t, err)
			assert.Equal(t, []byte(tc.name), text)

			var q acl.Performative
			require.NoError(t, q.UnmarshalText([]byte(strings.ToUpper(tc.name))))
			assert.Equal(t, tc.p, q)
		})
	}
}

func TestPerformatives(t *testing.T) {
	ps := acl.Performatives()
	require.Len(t, ps, 22)
	seen := make(map[acl.Performative]bool)
	names := make(map[string]bool)
	for i, p := range ps {
		assert.True(t, p.Valid(), "entry %d: %v", i, p)
		assert.False(t, seen[p], "duplicate %v", p)
		assert.False(t, names[p.String()], "duplicate name %q", p.String())
		seen[p], names[p.String()] = true, true
		assert.Equal(t, fipaActs[i].p, p, "entry %d is out of specification order", i)
	}

	// Each call returns a fresh slice.
	ps[0] = acl.Subscribe
	assert.Equal(t, acl.AcceptProposal, acl.Performatives()[0])
}

func TestParsePerformativeErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"informs",
		"inform-",
		"-inform",
		"accept proposal",
		"acceptproposal",
		"accept--proposal",
		"in form",
		"inform\x00",
		"ínform",
		"8",
		"0",
		"performative(8)",
		"fipa-inform",
		"query",
		"request-whenever-",
	} {
		t.Run(in, func(t *testing.T) {
			p, err := acl.ParsePerformative(in)
			assert.Equal(t, acl.Performative(0), p)
			assert.True(t, errors.Is(err, acl.ErrInvalid))
			var fe *acl.FieldError
			require.True(t, errors.As(err, &fe))
			assert.Equal(t, "performative", fe.Field)
			assert.Contains(t, fe.Reason, "unknown communicative act")
			assert.Contains(t, err.Error(), "acl: field performative: ")
		})
	}
}

func TestPerformativeInvalidValues(t *testing.T) {
	for _, tc := range []struct {
		p    acl.Performative
		want string
	}{
		{0, "performative(0)"},
		{23, "performative(23)"},
		{200, "performative(200)"},
		{255, "performative(255)"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			assert.False(t, tc.p.Valid())
			assert.Equal(t, tc.want, tc.p.String())
			text, err := tc.p.MarshalText()
			assert.Nil(t, text)
			fe := requireFieldError(t, err, "performative")
			assert.Contains(t, fe.Reason, "invalid value")
		})
	}
}

func TestPerformativeUnmarshalTextError(t *testing.T) {
	p := acl.Agree
	err := p.UnmarshalText([]byte("agreed"))
	requireFieldError(t, err, "performative")
	assert.Equal(t, acl.Agree, p, "a failed UnmarshalText must leave the value alone")

	var zero acl.Performative
	requireFieldError(t, zero.UnmarshalText(nil), "performative")
	assert.Equal(t, acl.Performative(0), zero)
}

func TestPerformativeTextInterfaces(t *testing.T) {
	var p acl.Performative
	var _ encoding.TextMarshaler = p
	var _ encoding.TextUnmarshaler = &p

	// encoding/json uses the text methods for values and map keys.
	type doc struct {
		P  acl.Performative         `json:"p"`
		By map[acl.Performative]int `json:"by"`
	}
	out, err := json.Marshal(doc{P: acl.QueryRef, By: map[acl.Performative]int{acl.CFP: 2}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"p":"query-ref","by":{"cfp":2}}`, string(out))

	var d doc
	require.NoError(t, json.Unmarshal([]byte(`{"p":"REQUEST_WHEN","by":{"Not-Understood":1}}`), &d))
	assert.Equal(t, acl.RequestWhen, d.P)
	assert.Equal(t, map[acl.Performative]int{acl.NotUnderstood: 1}, d.By)

	err = json.Unmarshal([]byte(`{"p":"nope"}`), &d)
	assert.ErrorIs(t, err, acl.ErrInvalid)

	_, err = json.Marshal(doc{})
	assert.ErrorIs(t, err, acl.ErrInvalid, "the zero act must not encode")
}
