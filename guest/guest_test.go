package guest

import (
	"errors"
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeHost struct {
	logs []string
	tool func(name string, args, out []byte) (uint8, int)
}

func (f *fakeHost) log(_ int32, msg string) { f.logs = append(f.logs, msg) }
func (f *fakeHost) now() int64              { return 42 }
func (f *fakeHost) toolCall(name string, args, out []byte) (uint8, int) {
	if f.tool == nil {
		return 5, copy(out, "no tools")
	}
	return f.tool(name, args, out)
}

func TestDispatcherRepliesAndEncodesOutbox(t *testing.T) {
	h := &fakeHost{}
	d := &dispatcher{host: h, handler: func(m *acl.Message, c *Context) error {
		c.Log(LevelInfo, "got "+string(m.Content))
		assert.Equal(t, int64(42), c.Now().UnixNano())
		return c.Reply(acl.Inform, append([]byte("re:"), m.Content...))
	}}
	in := []*acl.Message{
		{Performative: acl.Request, Sender: "host", Content: []byte("a"), ReplyWith: "r1", ConversationID: "c"},
		{Performative: acl.Request, Sender: "host", ReplyTo: "desk", Content: []byte("b")},
	}
	out, status := d.handle(abi.AppendBatch(nil, in))
	require.Equal(t, int64(0), status)
	msgs, err := abi.DecodeBatch(out, abi.Limits{})
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	assert.Equal(t, "re:a", string(msgs[0].Content))
	assert.Equal(t, []acl.AgentID{"host"}, msgs[0].Receivers)
	assert.Equal(t, "r1", msgs[0].InReplyTo)
	assert.Equal(t, "c", msgs[0].ConversationID)
	assert.Equal(t, []acl.AgentID{"desk"}, msgs[1].Receivers)
	assert.Equal(t, []string{"got a", "got b"}, h.logs)
}

func TestDispatcherStatuses(t *testing.T) {
	batch := abi.AppendBatch(nil, []*acl.Message{{Performative: acl.Inform, Sender: "x"}})
	tests := []struct {
		name    string
		handler Handler
		input   []byte
		want    int64
	}{
		{"no messages out", func(*acl.Message, *Context) error { return nil }, batch, 0},
		{"error retries", func(*acl.Message, *Context) error { return errors.New("db down") }, batch, abi.StatusFailed},
		{"permanent", func(*acl.Message, *Context) error { return Permanent(errors.New("bad order")) }, batch, abi.StatusPermanent},
		{"panic is a failure", func(*acl.Message, *Context) error { panic("boom") }, batch, abi.StatusFailed},
		{"malformed batch", func(*acl.Message, *Context) error { return nil }, []byte{9, 0, 0, 0}, abi.StatusBadInput},
		{"no handler", nil, batch, abi.StatusPermanent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &dispatcher{host: &fakeHost{}, handler: tc.handler}
			out, status := d.handle(tc.input)
			assert.Equal(t, tc.want, status)
			assert.Empty(t, out)
		})
	}
}

func TestFailedBatchEmitsNothing(t *testing.T) {
	n := 0
	d := &dispatcher{host: &fakeHost{}, handler: func(m *acl.Message, c *Context) error {
		n++
		c.Send(acl.New(acl.Inform, "x"))
		if n == 2 {
			return errors.New("second fails")
		}
		return nil
	}}
	out, status := d.handle(abi.AppendBatch(nil, []*acl.Message{{Performative: acl.Inform}, {Performative: acl.Inform}}))
	assert.Equal(t, int64(abi.StatusFailed), status)
	assert.Nil(t, out)
}
