package mcpserver_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/caxtontest"
)

func TestServerDeadLettersAndReplay(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	var healthy atomic.Bool
	var handled atomic.Int32
	rt.MustSpawn(caxton.AgentSpec{Name: "ledger", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		if !healthy.Load() {
			return caxton.Permanent(errors.New("database down"))
		}
		handled.Add(1)
		return nil
	})})
	cs := srvConnect(t, rt.Runtime)

	type deadLetter struct {
		ID        string `json:"id"`
		Receiver  string `json:"receiver"`
		Reason    string `json:"reason"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
		At        string `json:"at"`
		Message   struct {
			ID           string   `json:"id"`
			Performative string   `json:"performative"`
			Sender       string   `json:"sender"`
			Receivers    []string `json:"receivers"`
			Content      string   `json:"content"`
			ContentBytes int      `json:"content_bytes"`
		} `json:"message"`
	}
	type listing struct {
		Total       int          `json:"total"`
		DeadLetters []deadLetter `json:"dead_letters"`
	}
	big := strings.Repeat("é", 400) // 800 bytes: the preview is cut
	for _, content := range []string{"debit 12", big} {
		srvOK[map[string]any](t, srvCall(t, cs, "send_message", map[string]any{"performative": "request", "receivers": []string{"ledger"}, "content": content}))
	}
	rt.AwaitDeadLetters(2)

	got := srvOK[listing](t, srvCall(t, cs, "dead_letters", nil))
	require.Equal(t, 2, got.Total)
	require.Len(t, got.DeadLetters, 2)
	d := got.DeadLetters[0]
	assert.NotEmpty(t, d.ID)
	assert.Equal(t, "ledger", d.Receiver)
	assert.NotEmpty(t, d.Reason)
	assert.Equal(t, 1, d.Attempts)
	assert.Contains(t, d.LastError, "database down")
	assert.NotEmpty(t, d.At)
	assert.Equal(t, "request", d.Message.Performative)
	assert.Equal(t, "mcp", d.Message.Sender)
	assert.Equal(t, []string{"ledger"}, d.Message.Receivers)
	assert.Equal(t, "debit 12", d.Message.Content)
	assert.Equal(t, 800, got.DeadLetters[1].Message.ContentBytes)
	assert.Equal(t, strings.Repeat("é", 256)+"…", got.DeadLetters[1].Message.Content)

	one := srvOK[listing](t, srvCall(t, cs, "dead_letters", map[string]any{"limit": 1}))
	assert.Equal(t, 2, one.Total)
	assert.Len(t, one.DeadLetters, 1)
	none := srvOK[listing](t, srvCall(t, cs, "dead_letters", map[string]any{"receiver": "someone-else"}))
	assert.Equal(t, 0, none.Total)
	assert.Empty(t, none.DeadLetters)

	// Fix the cause, then replay: one good id and one unknown.
	healthy.Store(true)
	type replay struct {
		Replayed []string `json:"replayed"`
		Failed   []struct {
			ID    string `json:"id"`
			Error string `json:"error"`
		} `json:"failed"`
	}
	res := srvCall(t, cs, "replay_dead_letters", map[string]any{"ids": []string{d.ID, "no-such-id"}})
	assert.True(t, res.IsError, "a failed id flags the result")
	assert.Contains(t, srvText(res), "1 of 2 could not be replayed")
	r := srvDecode[replay](t, res)
	assert.Equal(t, []string{d.ID}, r.Replayed)
	require.Len(t, r.Failed, 1)
	assert.Equal(t, "no-such-id", r.Failed[0].ID)
	assert.Contains(t, r.Failed[0].Error, "dead letter not found")
	caxtontest.Eventually(t, func() bool { return handled.Load() == 1 }, "the replayed message to be handled")

	r = srvOK[replay](t, srvCall(t, cs, "replay_dead_letters", map[string]any{"ids": []string{got.DeadLetters[1].ID}}))
	assert.Equal(t, []string{got.DeadLetters[1].ID}, r.Replayed)
	assert.Empty(t, r.Failed)
	caxtontest.Eventually(t, func() bool { return handled.Load() == 2 }, "the second replayed message to be handled")
	assert.Equal(t, 0, srvOK[listing](t, srvCall(t, cs, "dead_letters", nil)).Total)
}
