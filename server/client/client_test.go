package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/server"
	"github.com/caxton-go/caxton/server/api"
	"github.com/caxton-go/caxton/server/client"
)

const (
	adminToken  = "admin-token-0123456789"
	viewerToken = "viewer-token-0123456789"
)

// serve runs a real server on 127.0.0.1 and returns clients for an
// admin and a viewer.
func serve(t *testing.T) (admin, viewer *client.Client) {
	t.Helper()
	rt, err := caxton.New()
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	auth, err := server.StaticTokens(
		server.Token{Token: adminToken, Subject: "alice", Role: server.RoleAdmin},
		server.Token{Token: viewerToken, Subject: "victor", Role: server.RoleViewer})
	require.NoError(t, err)
	srv, err := server.New(rt, server.WithAuthenticator(auth))
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	admin, err = client.New(hs.URL, client.WithToken(adminToken))
	require.NoError(t, err)
	viewer, err = client.New(hs.URL+"/", client.WithToken(viewerToken))
	require.NoError(t, err)
	return admin, viewer
}

func TestClientDrivesTheAPI(t *testing.T) {
	admin, viewer := serve(t)
	ctx := t.Context()
	module, err := os.ReadFile("../../guest/c/agents/echo.wasm")
	require.NoError(t, err)

	st, err := admin.Deploy(ctx, api.DeploySpec{Name: "echo", Version: "1.0"}, module)
	require.NoError(t, err)
	assert.Equal(t, "running", st.State)

	m := acl.New(acl.Request, "echo")
	m.Content = []byte("hello")
	reply, err := admin.Request(ctx, m, 20*time.Second)
	require.NoError(t, err)
	assert.Equal(t, acl.Inform, reply.Performative)
	assert.Equal(t, "hello", string(reply.Content))

	raw, err := admin.RequestRaw(ctx, server.FIPAContentType,
		[]byte(`(request :receiver (set (agent-identifier :name echo)) :content "fipa")`), 20*time.Second)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"content":"fipa"`)

	st, err = admin.Scale(ctx, "echo", 2)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Replicas)
	list, err := viewer.Agents(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)

	// Typed errors from problem details.
	_, err = viewer.Scale(ctx, "echo", 3)
	var p *api.Problem
	require.ErrorAs(t, err, &p)
	assert.Equal(t, 403, p.Status)
	assert.ErrorIs(t, err, api.ErrForbidden)
	assert.ErrorIs(t, err, server.ErrForbidden, "the server re-exports the same sentinels")

	_, err = admin.Agent(ctx, "nobody")
	assert.ErrorIs(t, err, api.ErrNotFound)
	require.ErrorAs(t, err, &p)
	assert.Equal(t, api.ProblemTypeBase+"agent-not-found", p.Type)
	assert.Equal(t, "nobody", p.Agent)

	_, err = admin.Deploy(ctx, api.DeploySpec{Name: "echo"}, module)
	assert.ErrorIs(t, err, api.ErrConflict)

	_, err = admin.SendRaw(ctx, "application/json", []byte(`{"type":"inform","to":"echo","bogus":1}`))
	assert.ErrorIs(t, err, api.ErrBadRequest)
	require.ErrorAs(t, err, &p)
	assert.Equal(t, "bogus", p.Field)

	_, err = admin.Deploy(ctx, api.DeploySpec{Name: "x"}, nil)
	assert.Error(t, err, "no module")

	down, err := client.New("http://127.0.0.1:1")
	require.NoError(t, err)
	_, err = down.Agents(ctx)
	var unr *client.UnreachableError
	assert.ErrorAs(t, err, &unr)

	_, err = client.New("ftp://x")
	var fe *client.FieldError
	assert.ErrorAs(t, err, &fe)

	require.NoError(t, admin.Remove(ctx, "echo"))
	_, err = admin.Agent(ctx, "echo")
	assert.ErrorIs(t, err, api.ErrNotFound)
}

func TestClientEventsAndSession(t *testing.T) {
	admin, viewer := serve(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	// Events: opened before the join, so the spawn of "desk" is seen.
	events := make(chan api.EventView, 16)
	opened := make(chan struct{})
	ectx, stopEvents := context.WithCancel(ctx)
	go func() {
		_ = admin.Events(ectx, "desk", func() { close(opened) }, func(ev api.EventView) error {
			events <- ev
			return nil
		})
	}()
	<-opened

	_, err := viewer.Join(ctx, "desk")
	assert.ErrorIs(t, err, api.ErrForbidden, "viewers do not join")

	s, err := admin.Join(ctx, "desk")
	require.NoError(t, err)
	assert.Equal(t, "desk", s.Name())
	assert.Equal(t, "spawned", (<-events).Kind)
	_, err = admin.Join(ctx, "desk")
	assert.ErrorIs(t, err, api.ErrAlreadyJoined)
	assert.ErrorIs(t, err, api.ErrConflict)

	m := acl.New(acl.Inform, "desk")
	m.Content = []byte("for the desk")
	_, err = admin.Send(ctx, m)
	require.NoError(t, err)
	d, err := s.Receive(ctx)
	require.NoError(t, err)
	assert.Equal(t, "for the desk", string(d.Message.Content))
	require.NoError(t, s.Ack(ctx, d))

	// The session sends as its agent: to itself here, and it gets it.
	self := acl.New(acl.Inform, "desk")
	self.Content = []byte("note to self")
	id, err := s.Send(ctx, self)
	require.NoError(t, err)
	d, err = s.Receive(ctx)
	require.NoError(t, err)
	assert.Equal(t, id, d.Message.ID.String())
	assert.Equal(t, acl.AgentID("desk"), d.Message.Sender)
	require.NoError(t, s.Ack(ctx, d))

	// Sends do not wait for Receive: deliveries arriving meanwhile are
	// kept (a client that sends several messages before reading must not
	// deadlock), and come in order.
	for i := range 5 {
		m := acl.New(acl.Inform, "desk")
		m.Content = []byte{'0' + byte(i)}
		_, err := s.Send(ctx, m)
		require.NoError(t, err)
	}
	for i := range 5 {
		d, err := s.Receive(ctx)
		require.NoError(t, err)
		assert.Equal(t, string([]byte{'0' + byte(i)}), string(d.Message.Content))
		require.NoError(t, s.Ack(ctx, d))
	}

	forged := acl.New(acl.Inform, "desk")
	forged.Sender = "alice"
	_, err = s.Send(ctx, forged)
	var p *api.Problem
	require.ErrorAs(t, err, &p)
	assert.Equal(t, "sender", p.Field)

	require.NoError(t, s.Close())
	assert.True(t, errors.Is(s.Err(), client.ErrSessionClosed), "%v", s.Err())
	_, err = s.Receive(ctx)
	assert.ErrorIs(t, err, client.ErrSessionClosed)
	stopEvents()
}
