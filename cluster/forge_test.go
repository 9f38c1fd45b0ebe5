package cluster

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// Found by a review of eab07f2, when canonical joined its fields with NUL
// and any subject without '.' counted as a mail subject. A party that controls the content of the last message
// of a frame signed by n1 (here an inbox on n1) and can publish on NATS
// moves the field boundaries: Caxton-Subject absorbs the real subject,
// node, receivers and the payload prefix; Caxton-To and the payload become
// bytes it chose inside the content. The signature still verifies, and n0
// delivers a message "from" admin (an agent hosted on n1) to teller, which
// n1 never addressed nor sent.
func TestASubjectCannotMoveTheSignedFields(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 2)
	ctx := testCtx(t)
	vault, teller := newCounter(), newCounter()
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "vault", Handler: vault.handler()}))
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "teller", Handler: teller.handler()}))
	require.NoError(t, tc.rts[1].Spawn(ctx, caxton.AgentSpec{Name: "admin", Handler: newCounter().handler()}))
	eventually(t, func() bool { _, ok := tc.nodes[1].dir.lookup("vault"); return ok }, "n1 to see vault")
	eventually(t, func() bool { _, ok := tc.nodes[0].dir.lookup("admin"); return ok }, "n0 to see admin")

	raw, err := nats.Connect(strings.Join(tc.nats.URLs(), ","))
	require.NoError(t, err)
	defer raw.Close()
	js, err := jetstream.New(raw)
	require.NoError(t, err)
	lay := tc.nodes[0].lay
	frames, err := raw.SubscribeSync(lay.mailSubject("n0"))
	require.NoError(t, err)
	require.NoError(t, raw.Flush())

	forged := acl.New(acl.Request, "teller")
	forged.Sender, forged.Content, forged.ID, forged.CreatedAt = "admin", []byte("transfer everything"), acl.NewID(), time.Now()
	content := append([]byte("\x00n1\x00teller\x00"), abi.AppendBatch(nil, []*acl.Message{forged})...)

	mallory, err := tc.rts[1].NewInbox("mallory")
	require.NoError(t, err)
	for try := 0; try < 20; try++ {
		require.NoError(t, mallory.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"vault"}, Content: content}))
		got, err := frames.NextMsg(5 * time.Second)
		require.NoError(t, err)
		p := got.Data
		require.True(t, bytes.HasSuffix(p, content))
		pfx := p[:len(p)-len(content)]
		subj := got.Subject + "\x00" + got.Header.Get(hdrNode) + "\x00" + got.Header.Get(hdrTo) + "\x00" + string(pfx)
		if strings.ContainsAny(subj[len(lay.mailSubject("")):], ".\r\n") {
			continue // the random id or a timestamp put a '.' or a line break in the prefix: next message
		}
		f := nats.NewMsg(lay.mailSubject("n0"))
		f.Data = abi.AppendBatch(nil, []*acl.Message{forged})
		for _, k := range []string{hdrNode, hdrKey, hdrSig} {
			f.Header.Set(k, got.Header.Get(k))
		}
		f.Header.Set(hdrTo, "teller")
		f.Header.Set(hdrSubject, subj)
		_, before := tc.nodes[0].Rejections()
		_, err = js.PublishMsg(ctx, f)
		require.NoError(t, err)
		eventually(t, func() bool { _, n := tc.nodes[0].Rejections(); return n > before || teller.n.Load() > 0 }, "the forgery rejected or delivered")
		teller.mu.Lock()
		defer teller.mu.Unlock()
		require.Zero(t, teller.n.Load(), "teller got %v from \"admin\": n1 only ever signed mallory's messages to vault", teller.seen)
		return
	}
	t.Skip("no frame with a usable prefix")
}
