package caxton_test

import (
	"context"
	"testing"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDirectoryFindsSubscribersAndCapableAgents(t *testing.T) {
	t.Parallel()
	rt := caxtontest.NewRuntime(t)
	ctx := caxtontest.Context(t)
	h := lcNop()
	caps := []string{"haul", "store"}
	rt.MustSpawn(caxton.AgentSpec{Name: "dir-b", Handler: h, Topics: []string{"news"}, Capabilities: caps})
	rt.MustSpawn(caxton.AgentSpec{Name: "dir-a", Handler: h, Capabilities: []string{"haul"}})
	rt.MustSpawn(caxton.AgentSpec{Name: "dir-c", Handler: h})
	caps[0] = "changed" // the spec keeps its own copy
	ib, err := rt.NewInbox("dir-inbox")
	require.NoError(t, err)
	require.NoError(t, rt.Subscribe("news", ib.Name()))
	sub, err := rt.SubscribeFunc("news", func(ctx2 context.Context, m *acl.Message) error { return nil })
	require.NoError(t, err)
	defer sub.Unsubscribe(ctx)

	assert.Equal(t, []acl.AgentID{"dir-b", "dir-inbox"}, rt.Subscribers("news"), "host callbacks are not addressable, so not listed")
	assert.Empty(t, rt.Subscribers("nobody-listens"))
	assert.Equal(t, []acl.AgentID{"dir-a", "dir-b"}, rt.Capable("haul"))
	assert.Equal(t, []acl.AgentID{"dir-b"}, rt.Capable("store"))
	assert.Empty(t, rt.Capable("changed"))

	info, err := rt.Agent("dir-b")
	require.NoError(t, err)
	assert.Equal(t, []string{"haul", "store"}, info.Capabilities)

	require.NoError(t, rt.Stop(ctx, "dir-a"))
	assert.Equal(t, []acl.AgentID{"dir-a", "dir-b"}, rt.Capable("haul"), "a stopped agent still advertises: its mail waits")
	require.NoError(t, rt.Remove(ctx, "dir-a"))
	assert.Equal(t, []acl.AgentID{"dir-b"}, rt.Capable("haul"))
}
