package tool_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/tool"
)

func TestGrantAllows(t *testing.T) {
	tests := []struct {
		allow []string
		name  string
		want  bool
	}{
		{nil, "lookup", false},
		{[]string{}, "lookup", false},
		{[]string{"lookup"}, "lookup", true},
		{[]string{"lookup"}, "lookup2", false},
		{[]string{"files/*"}, "files/read", true},
		{[]string{"files/*"}, "filesystem/read", false},
		{[]string{"files/*"}, "files", false},
		{[]string{"lookup", "files/*"}, "files/read", true},
		{[]string{"*"}, "anything/at/all", true},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tool.Grant{Allow: tc.allow}.Allows(tc.name), "%v allows %q", tc.allow, tc.name)
	}
}

func TestGrantWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   tool.Grant
		want tool.Grant
	}{
		{"zero", tool.Grant{},
			tool.Grant{Timeout: tool.DefaultTimeout, MaxResult: tool.DefaultMaxResult}},
		{"burst from a fractional rate", tool.Grant{Rate: 2.5},
			tool.Grant{Rate: 2.5, Burst: 3, Timeout: tool.DefaultTimeout, MaxResult: tool.DefaultMaxResult}},
		{"burst at least 1", tool.Grant{Rate: 0.1},
			tool.Grant{Rate: 0.1, Burst: 1, Timeout: tool.DefaultTimeout, MaxResult: tool.DefaultMaxResult}},
		{"set limits are kept", tool.Grant{Allow: []string{"x"}, Rate: 5, Burst: 2, Timeout: time.Second, MaxResult: 10},
			tool.Grant{Allow: []string{"x"}, Rate: 5, Burst: 2, Timeout: time.Second, MaxResult: 10}},
		{"negative limits are lenient", tool.Grant{Rate: 1, Burst: -1, Timeout: -time.Second, MaxResult: -1},
			tool.Grant{Rate: 1, Burst: 1, Timeout: tool.DefaultTimeout, MaxResult: tool.DefaultMaxResult}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.in.WithDefaults())
		})
	}
}

func TestGrantValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name  string
		grant tool.Grant
		field string // "" for a valid grant
	}{
		{"zero", tool.Grant{}, ""},
		{"names, namespaces and everything", tool.Grant{Allow: []string{"lookup", "files/*", "a.b-c_d", "*"}, Rate: 1, Burst: 1, Timeout: time.Second, MaxResult: 1}, ""},
		{"empty entry", tool.Grant{Allow: []string{""}}, "Allow"},
		{"space", tool.Grant{Allow: []string{"look up"}}, "Allow"},
		{"star inside", tool.Grant{Allow: []string{"fi*les"}}, "Allow"},
		{"star prefix", tool.Grant{Allow: []string{"*/x"}}, "Allow"},
		{"trailing slash", tool.Grant{Allow: []string{"files/"}}, "Allow"},
		{"negative rate", tool.Grant{Rate: -1}, "Rate"},
		{"negative burst", tool.Grant{Burst: -1}, "Burst"},
		{"negative timeout", tool.Grant{Timeout: -time.Second}, "Timeout"},
		{"negative max result", tool.Grant{MaxResult: -1}, "MaxResult"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.grant.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var ge *tool.GrantError
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, tc.field, ge.Field)
			assert.NotEmpty(t, ge.Reason)
			assert.ErrorIs(t, err, tool.ErrInvalidGrant)
			assert.Contains(t, err.Error(), "grant field "+tc.field+": ")
		})
	}
}
