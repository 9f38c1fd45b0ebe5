package caxton

import (
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/stretchr/testify/assert"
)

// without leaves ids untouched and returns the others in order, nil when
// none is left (a reply addressed only to its requester copies nothing).
func TestWithout(t *testing.T) {
	for _, c := range []struct {
		ids  []acl.AgentID
		want []acl.AgentID
	}{
		{nil, nil},
		{[]acl.AgentID{"req"}, nil},
		{[]acl.AgentID{"req", "req"}, nil},
		{[]acl.AgentID{"a"}, []acl.AgentID{"a"}},
		{[]acl.AgentID{"a", "req", "b", "req"}, []acl.AgentID{"a", "b"}},
	} {
		before := append([]acl.AgentID(nil), c.ids...)
		got := without(c.ids, "req")
		assert.Equal(t, c.want, got, "%v", c.ids)
		assert.Equal(t, before, c.ids, "the input is not changed")
	}
}

// A request's record of whom it reached holds one agent or several.
func TestWaiterReach(t *testing.T) {
	w := &waiter{}
	assert.False(t, w.reachedBy("a", "system"))
	assert.True(t, w.reachedBy("system", "system"), "the runtime may always answer")
	w.reach([]endpoint{&agent{spec: AgentSpec{Name: "a"}}})
	assert.True(t, w.reachedBy("a", "system"))
	assert.False(t, w.reachedBy("b", "system"))

	w = &waiter{}
	w.reach([]endpoint{&agent{spec: AgentSpec{Name: "a"}}, &agent{spec: AgentSpec{Name: "b"}}})
	assert.True(t, w.reachedBy("b", "system"))
	assert.False(t, w.reachedBy("c", "system"))
}
