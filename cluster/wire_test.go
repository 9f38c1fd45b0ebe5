package cluster

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Messages from a misbehaving client on the cluster's subjects are
// refused and recorded, never delivered, and never stop the node.
func TestHostileWireMessagesAreRejected(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1, 2, WithMaxMessageBytes(4096))
	ctx := testCtx(t)
	c := newCounter()
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "vault", Handler: c.handler()}))
	require.NoError(t, tc.rts[0].Spawn(ctx, caxton.AgentSpec{Name: "teller", Handler: c.handler()}))

	raw, err := nats.Connect(strings.Join(tc.nats.URLs(), ","))
	require.NoError(t, err)
	defer raw.Close()
	js, err := jetstream.New(raw)
	require.NoError(t, err)
	lay, n1 := tc.nodes[0].lay, tc.nodes[1]
	subject := lay.mailSubject("n0")
	msg := func(sender acl.AgentID, content string) *acl.Message {
		m := acl.New(acl.Inform, "vault")
		m.Sender, m.Content, m.ID, m.CreatedAt = sender, []byte(content), acl.NewID(), time.Now()
		return m
	}
	sealed := func(t *testing.T, key ed25519.PrivateKey, m *acl.Message) *nats.Msg {
		s, err := seal(subject, "n1", key, []acl.AgentID{"vault"}, []*acl.Message{m}, 4096)
		require.NoError(t, err)
		return s
	}
	_, forger, _ := ed25519.GenerateKey(rand.Reader)

	cases := []struct {
		name   string
		msg    func(t *testing.T) *nats.Msg
		reason string
	}{
		{"unsigned", func(*testing.T) *nats.Msg {
			m := nats.NewMsg(subject)
			m.Data = abi.AppendBatch(nil, []*acl.Message{msg("host", "unsigned")})
			return m
		}, "unsigned"},
		{"forged", func(t *testing.T) *nats.Msg {
			m := sealed(t, forger, msg("host", "forged"))
			m.Header.Set(hdrKey, keyID(n1.PublicKey())) // claims n1's real key
			return m
		}, "bad signature"},
		{"forged key id", func(t *testing.T) *nats.Msg { return sealed(t, forger, msg("host", "forged")) }, "key the directory does not have"},
		{"tampered", func(t *testing.T) *nats.Msg {
			m := sealed(t, n1.key, msg("host", "tampered"))
			m.Data[len(m.Data)-1] ^= 1
			return m
		}, "bad signature"},
		{"receiver changed", func(t *testing.T) *nats.Msg {
			m := sealed(t, n1.key, msg("host", "redirected"))
			m.Header.Set(hdrTo, "teller")
			return m
		}, "bad signature"},
		{"unknown node", func(t *testing.T) *nats.Msg {
			m := sealed(t, forger, msg("host", "stranger"))
			m.Header.Set(hdrNode, "n9")
			return m
		}, "key the directory does not have"},
		{"speaks for another node's agent", func(t *testing.T) *nats.Msg { return sealed(t, n1.key, msg("teller", "impostor")) }, "does not host the sender"},
		{"malformed payload", func(t *testing.T) *nats.Msg {
			m := sealed(t, n1.key, msg("host", "x"))
			m.Data = []byte("not a frame")
			m.Header.Set(hdrSig, sign(n1.key, subject, "n1", "vault", m.Data))
			return m
		}, "malformed payload"},
		{"too many messages in a frame", func(t *testing.T) *nats.Msg {
			m := sealed(t, n1.key, msg("host", "x"))
			m.Data = binary.LittleEndian.AppendUint32(nil, maxBatch+1)
			m.Header.Set(hdrSig, sign(n1.key, subject, "n1", "vault", m.Data))
			return m
		}, "the limit is 256"},
		{"empty frame", func(t *testing.T) *nats.Msg {
			m := sealed(t, n1.key, msg("host", "x"))
			m.Data = binary.LittleEndian.AppendUint32(nil, 0)
			m.Header.Set(hdrSig, sign(n1.key, subject, "n1", "vault", m.Data))
			return m
		}, "an empty frame"},
		{"receivers for fewer messages than the frame's", func(t *testing.T) *nats.Msg {
			m := sealed(t, n1.key, msg("host", "x"))
			m.Data = abi.AppendBatch(nil, []*acl.Message{msg("host", "one"), msg("host", "two")})
			m.Header.Set(hdrSig, sign(n1.key, subject, "n1", "vault", m.Data))
			return m
		}, "receivers for 1 of the frame's 2 messages"},
		{"malformed receivers", func(t *testing.T) *nats.Msg {
			m := sealed(t, n1.key, msg("host", "x"))
			m.Header.Set(hdrTo, "vault*1")
			m.Header.Set(hdrSig, sign(n1.key, subject, "n1", "vault*1", m.Data))
			return m
		}, "malformed receivers"},
		{"a malformed selection", func(t *testing.T) *nats.Msg {
			m := sealed(t, n1.key, msg("host", "x"))
			m.Header.Set(hdrOnly, "1")
			return m
		}, "want increasing indexes"},
		{"not a mail subject", func(t *testing.T) *nats.Msg {
			m := sealed(t, n1.key, msg("host", "x"))
			m.Header.Set(hdrSubject, lay.prefix+".elsewhere.n0")
			return m
		}, "not a mail or node subject"},
		{"oversize", func(*testing.T) *nats.Msg {
			m := nats.NewMsg(subject)
			m.Data = make([]byte, 8000)
			m.Header.Set(hdrNode, "n1")
			m.Header.Set(hdrTo, "vault")
			m.Header.Set(hdrSig, sign(n1.key, subject, "n1", "vault", m.Data))
			return m
		}, "the limit is 4096"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, before := tc.nodes[0].Rejections()
			_, err := js.PublishMsg(ctx, tt.msg(t))
			require.NoError(t, err)
			// Look among the rejections recorded since the publish for this
			// one: an earlier case's message can be rejected again meanwhile
			// (JetStream redelivers what a node acknowledged too late, on a
			// loaded machine past the test's 2 s ack wait).
			var r *Rejection
			eventually(t, func() bool {
				rs, n := tc.nodes[0].Rejections()
				for i := max(0, len(rs)-int(n-before)); i < len(rs); i++ {
					if strings.Contains(rs[i].Reason, tt.reason) {
						r = &rs[i]
						return true
					}
				}
				return false
			}, "a rejection saying "+tt.reason)
			assert.True(t, errors.Is(*r, ErrRejected))
		})
	}
	// the node still works, and took none of them
	require.NoError(t, tc.rts[1].Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{"vault"}, Content: []byte("genuine")}))
	eventually(t, func() bool { return c.n.Load() == 1 }, "the genuine message")
	assert.Equal(t, map[string]int{"genuine": 1}, c.seen)

	// a frame of several messages, one of them speaking for an agent n1
	// does not host: that one is refused, the others delivered
	_, before := tc.nodes[0].Rejections()
	frame, err := seal(subject, "n1", n1.key, []acl.AgentID{"vault", "vault", "vault"}, []*acl.Message{msg("host", "batch 1"), msg("teller", "batch impostor"), msg("host", "batch 2")}, 4096)
	require.NoError(t, err)
	_, err = js.PublishMsg(ctx, frame)
	require.NoError(t, err)
	eventually(t, func() bool { return c.n.Load() == 3 }, "the frame's genuine messages")
	_, after := tc.nodes[0].Rejections()
	assert.Equal(t, before+1, after)
	c.mu.Lock()
	assert.Equal(t, map[string]int{"genuine": 1, "batch 1": 1, "batch 2": 1}, c.seen)
	c.mu.Unlock()

	// the same on the node's own subject (replies): core NATS, no JetStream
	_, before = tc.nodes[0].Rejections()
	require.NoError(t, raw.Publish(lay.nodeSubject("n0"), []byte("garbage")))
	eventually(t, func() bool { _, n := tc.nodes[0].Rejections(); return n == before+1 }, "the rejection")
}

func sign(key ed25519.PrivateKey, subject, node, to string, data []byte) string {
	return base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, canonical(subject, node, to, data)))
}

func TestUnreachableNATS(t *testing.T) {
	t.Parallel()
	_, err := New("n0", WithURLs("nats://127.0.0.1:1"))
	var ue *UnavailableError
	require.ErrorAs(t, err, &ue)
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, "connect", ue.Op)

	start := time.Now()
	_, err = New("n0", WithURLs("nats://127.0.0.1:1"), WithConnectWait(400*time.Millisecond))
	require.ErrorIs(t, err, ErrUnavailable)
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond)
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		node  string
		opts  []Option
		field string
	}{
		{"no URL", "n0", nil, "WithURLs"},
		{"bad node name", "a.b", []Option{WithURLs("nats://x")}, "name"},
		{"bad cluster name", "n0", []Option{WithURLs("nats://x"), WithClusterName("a b")}, "WithClusterName"},
		{"replicas", "n0", []Option{WithURLs("nats://x"), WithReplicas(7)}, "WithReplicas"},
		{"lease", "n0", []Option{WithURLs("nats://x"), WithLease(time.Millisecond)}, "WithLease"},
		{"key", "n0", []Option{WithURLs("nats://x"), WithKey(make([]byte, 3))}, "WithKey"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.node, tt.opts...)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.field, ce.Field)
			assert.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
}

func TestTokenIsInjective(t *testing.T) {
	t.Parallel()
	names := []acl.AgentID{"a", "a.b", "a=2Eb", "a_b", "a-b", "x@y:z/w", "A"}
	seen := map[string]acl.AgentID{}
	for _, n := range names {
		tok := token(n)
		assert.True(t, validToken(tok) || strings.Contains(tok, "="), tok)
		prev, dup := seen[tok]
		assert.False(t, dup, "%q and %q share %q", prev, n, tok)
		seen[tok] = n
	}
}
